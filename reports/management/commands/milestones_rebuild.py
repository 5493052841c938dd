from django.core.management.base import BaseCommand

from reports.milestones import milestones_rebuild


class Command(BaseCommand):
    help = (
        "Compute every confirmed report's milestones and service promise from "
        "its events (reports written before they were kept, or after a "
        "kommun's working days changed)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--promise-again",
            action="store_true",
            help="Give each report its kommun's current promise.",
        )

    def handle(self, *args, promise_again=False, **options):
        count = milestones_rebuild(promise_again=promise_again)
        self.stdout.write(f"Milestones of {count} reports computed.")
