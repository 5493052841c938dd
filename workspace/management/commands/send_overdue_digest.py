import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from municipalities.models import Municipality
from workspace.digest import digest_send
from workspace.digest_schedule import digest_claim, digest_local_now


class Command(BaseCommand):
    help = (
        "Send the daily e-mail of overdue reports to the case handlers now, "
        "for a day (default today, Stockholm time): each kommun's day is "
        "claimed first, so a day the scheduler has sent is not sent twice "
        "(unless --again). Sent whether or not the day is a working day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The day, YYYY-MM-DD (default today).")
        parser.add_argument(
            "--kommun", action="append", default=[], help="Only this kommun code."
        )
        parser.add_argument(
            "--again", action="store_true", help="Send a day already sent again."
        )

    def handle(self, *args, date=None, kommun=(), again=False, **options):
        try:
            day = dt.date.fromisoformat(date) if date else digest_local_now().date()
        except ValueError as error:
            raise CommandError(f"--date: {error}") from error
        kommuner = Municipality.objects.filter(participating=True).order_by("name")
        if kommun:
            kommuner = kommuner.filter(code__in=kommun)
            missing = set(kommun) - set(kommuner.values_list("code", flat=True))
            if missing:
                raise CommandError(
                    f"No participating kommun {', '.join(sorted(missing))}."
                )
        for municipality in kommuner:
            claimed = digest_claim(
                municipality_id=municipality.pk, day=day, enqueue=False
            )
            if not claimed and not again:
                self.stdout.write(
                    f"{municipality}: {day} was claimed already; skipped."
                )
                continue
            sent = digest_send(municipality_id=municipality.pk, day=day, again=again)
            self.stdout.write(f"{municipality}: {sent} mails for {day}.")
