from django.conf import settings
from django.core.management.base import BaseCommand

from config.demo import load_demo


class Command(BaseCommand):
    help = (
        "Load demo data: all kommuner as tenants, categories, demo accounts and "
        "months of reports."
    )

    def add_arguments(self, parser):
        parser.add_argument("--domain", default=settings.KNUTPUNKT_SITE_DOMAIN)
        parser.add_argument("--port", type=int, default=settings.KNUTPUNKT_SITE_PORT)
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Without the months of demo reports (for tests that count theirs).",
        )

    def handle(self, *args, domain, port, no_history, **options):
        load_demo(stdout=self.stdout, domain=domain, port=port, history=not no_history)
