"""Reports, bodies and deliveries of Malmö and Lund for the casework screens'
tests."""

from django.utils import timezone

from casehub.choices import DeliveryState
from casehub.models import Delivery
from municipalities.choices import BodyKind, ConnectionKind
from municipalities.models import Body, Connection
from reports.choices import ReportStatus
from tests.support import factories

MALMO, LUND = "1280", "1281"
POINTS = {MALMO: (55.6059, 13.0007), LUND: (55.7047, 13.1910)}


def kommun_body(code: str) -> Body:
    return Body.objects.get(municipalities__code=code, kind=BodyKind.MUNICIPAL)


def inbox(code: str) -> Connection:
    return kommun_body(code).connections.get(kind=ConnectionKind.INBOX)


def make_report(code: str, *, title: str, status=ReportStatus.OPEN, **fields):
    return factories.report(
        code=code,
        point=POINTS[code],
        title=title,
        status=status,
        phone="070-123 45 67",
        confirmed=status != ReportStatus.UNCONFIRMED,
        **fields,
    )


def make_delivery(report, connection, state=DeliveryState.PENDING, **fields):
    now = timezone.now()
    return Delivery.objects.create(
        report=report,
        connection=connection,
        next_attempt_at=now,
        queued_at=now,
        state=state,
        **fields,
    )


def as_user(client, user):
    client.force_login(user)
    return client
