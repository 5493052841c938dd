"""Building blocks for delivery tests: reports in Malmö and connections to
loopback case systems."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from casehub.choices import DeliveryKind
from casehub.models import Delivery
from casehub.outbox import deliveries_claim, delivery_attempt
from municipalities.choices import ConnectionKind
from municipalities.models import (
    Body,
    Category,
    Connection,
    ConnectionService,
    Municipality,
    Route,
)
from reports.models import Report
from reports.services import Reporter, report_submit

MALMO = (55.6050, 13.0038)
LUND = (55.7047, 13.1910)


def reporter_user(username: str = "reporter"):
    user, _ = get_user_model().objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.org"}
    )
    return user


def lamp_category() -> Category:
    return Category.objects.get(slug="gatubelysning")


def malmo_body() -> Body:
    return Body.objects.get(slug="kommun-malmo")


def connect(
    kind: str, *, category: Category | None = None, code: str = "001", **fields
) -> Connection:
    """A connection for Malmö's body, with Malmö's lamp route going through it."""
    category = category or lamp_category()
    fields.setdefault("timeout_seconds", 2.0)
    connection = Connection.objects.create(
        body=malmo_body(), name=f"Test {kind}", kind=kind, **fields
    )
    if kind == ConnectionKind.OPEN311 and code:
        ConnectionService.objects.create(
            connection=connection, category=category, service_code=code
        )
    Route.objects.filter(
        municipality=Municipality.objects.get(code="1280"), category=category
    ).update(connection=connection)
    return connection


def confirmed_report(
    *, point=MALMO, category: Category | None = None, share_contact=False, **kwargs
) -> Report:
    """A report by a signed-in reporter: confirmed, and queued for delivery."""
    return report_submit(
        lat=point[0],
        lon=point[1],
        category=category or lamp_category(),
        title=kwargs.pop("title", "Lampan är trasig"),
        description=kwargs.pop("description", "Gatlampan blinkar hela natten."),
        reporter=Reporter(
            name="Anna Andersson",
            email="anna@example.org",
            phone="040-123456",
            share_contact=share_contact,
            user=reporter_user(),
        ),
        **kwargs,
    )


def unconfirmed_report(*, point=MALMO, **kwargs) -> Report:
    """A report by someone without an account: waiting for its e-mailed link."""
    return report_submit(
        lat=point[0],
        lon=point[1],
        category=kwargs.pop("category", None) or lamp_category(),
        title=kwargs.pop("title", "Lampan är trasig"),
        description=kwargs.pop("description", "Den blinkar."),
        reporter=Reporter(name="Bo", email="bo@example.org"),
        **kwargs,
    )


def deliver_due(now=None) -> list[str | None]:
    """One dispatcher round, in this thread: claim what is due and send it."""
    return [delivery_attempt(claim=c) for c in deliveries_claim(limit=100, now=now)]


def delivery_of(report: Report) -> Delivery:
    return Delivery.objects.select_related("connection").get(
        report=report, kind=DeliveryKind.CASE
    )


def later(**delta):
    return timezone.now() + timedelta(**delta)
