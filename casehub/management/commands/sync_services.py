from django.core.management.base import BaseCommand, CommandError

from casehub.connectors import DeliveryError
from casehub.sync import connection_services_refresh
from municipalities.choices import ConnectionKind
from municipalities.models import Connection


class Command(BaseCommand):
    help = (
        "Read Open311 connections' service lists and definitions into the bodies' "
        "categories, extra questions and routes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--connection", type=int, help="Only this connection id.")

    def handle(self, *args, connection=None, **options):
        connections = Connection.objects.filter(
            kind=ConnectionKind.OPEN311, is_active=True
        )
        if connection is not None:
            connections = connections.filter(pk=connection)
            if not connections.exists():
                raise CommandError(f"No active Open311 connection {connection}.")
        failed = 0
        for item in connections:
            try:
                result = connection_services_refresh(connection_id=item.pk)
            except DeliveryError as exc:
                failed += 1
                self.stderr.write(f"{item}: {exc.reason}")
                continue
            self.stdout.write(
                f"{item}: {len(result.created)} new, {len(result.updated)} updated, "
                f"{len(result.deactivated)} gone"
                + (
                    f"; left alone: {', '.join(result.conflicts)}"
                    if result.conflicts
                    else ""
                )
            )
        if failed:
            raise CommandError(f"{failed} connection(s) could not be read.")
