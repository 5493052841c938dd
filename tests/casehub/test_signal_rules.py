"""The signal service's rules that make the hub exact: ordered by the newest
accepted word on the status, every event naming who acted, and the staff's
status change checking its permission itself."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from casehub.choices import DeliveryKind
from casehub.models import Delivery
from casehub.services import Signal, signal_accept
from municipalities.choices import ConnectionKind, StaffRole
from municipalities.models import Connection
from reports.choices import ActorKind, EventKind, ReportStatus, TokenPurpose
from reports.models import ReportEvent
from reports.services import report_confirm, report_transition
from reports.tokens import token_issue
from tests.support.casehub import (
    LUND,
    confirmed_report,
    connect,
    deliver_due,
    delivery_of,
    unconfirmed_report,
)
from tests.support.people import case_handler, staff_user
from workspace.services import report_status_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered():
    """A Malmö report delivered through a webhook connection (marked done by
    hand: the case system is not needed here)."""
    connection = connect(ConnectionKind.WEBHOOK, endpoint="http://127.0.0.1:9/")
    report = confirmed_report()
    delivery = delivery_of(report)
    delivery.state, delivery.external_id = "delivered", "CASE-7"
    delivery.save()
    return connection, report


def signal(connection, report, n, status, at, note=""):
    return signal_accept(
        signal=Signal(
            connection_id=connection.pk,
            message_id=f"m-{n}",
            report_id=report.pk,
            status=ReportStatus(status) if status else None,
            note=note,
            happened_at=at,
        )
    )


def test_a_newer_signal_with_the_same_status_still_outranks_an_older_one(delivered):
    connection, report = delivered
    ten = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    signal(connection, report, 1, "fixed", ten + timedelta(minutes=1))
    again = signal(connection, report, 2, "fixed", ten + timedelta(minutes=3))
    late = signal(connection, report, 3, "in_progress", ten + timedelta(minutes=2))
    report.refresh_from_db()
    assert report.status == ReportStatus.FIXED
    assert report.status_as_of == ten + timedelta(minutes=3)
    # When it became fixed stays when it became fixed.
    assert report.status_changed_at == ten + timedelta(minutes=1)
    assert (again.event_id, again.superseded) == (None, False)
    assert late.superseded
    kept = ReportEvent.objects.get(pk=late.event_id)
    assert (kept.status, kept.superseded) == (ReportStatus.IN_PROGRESS, True)


def test_a_repeated_status_with_a_note_is_a_note_and_moves_the_order(delivered):
    connection, report = delivered
    ten = timezone.now() - timedelta(hours=1)
    signal(connection, report, 1, "in_progress", ten)
    noted = signal(
        connection, report, 2, "in_progress", ten + timedelta(minutes=5), "Snart klart"
    )
    event = ReportEvent.objects.get(pk=noted.event_id)
    assert (event.kind, event.note, event.superseded) == (
        EventKind.NOTE,
        "Snart klart",
        False,
    )
    assert signal(connection, report, 3, "fixed", ten + timedelta(minutes=4)).superseded


def test_a_staff_change_outranks_a_signal_about_an_earlier_moment(delivered):
    connection, report = delivered
    # The report is worked in Knutpunkt's inbox by Malmö's body too.
    report_transition(
        actor=case_handler(), report_id=report.pk, status=ReportStatus.IN_PROGRESS
    )
    before = timezone.now() - timedelta(minutes=1)
    assert signal(connection, report, 1, "fixed", before).superseded
    report.refresh_from_db()
    assert report.status == ReportStatus.IN_PROGRESS


def test_every_event_names_who_acted(delivered):
    connection, report = delivered
    handler = case_handler()
    report_transition(
        actor=handler, report_id=report.pk, status=ReportStatus.INVESTIGATING
    )
    signal(connection, report, 1, "in_progress", timezone.now())
    connect(ConnectionKind.INBOX)  # Malmö's lamps go to Knutpunkt's inbox now
    sent = confirmed_report(title="Ännu en lampa")  # delivered by the outbox
    assert deliver_due() == ["delivered"]
    actors = {
        (event.kind, event.actor_kind, event.actor_user_id, event.connection_id)
        for event in ReportEvent.objects.filter(report__in=[report, sent])
    }
    reporter = report.reporter_id
    assert (EventKind.CONFIRMED, ActorKind.REPORTER, reporter, None) in actors
    assert (EventKind.STATUS, ActorKind.STAFF, handler.pk, None) in actors
    assert (EventKind.STATUS, ActorKind.CONNECTION, None, connection.pk) in actors
    sent_event = ReportEvent.objects.get(report=sent, kind=EventKind.SENT)
    assert sent_event.actor_kind == ActorKind.SYSTEM
    assert sent_event.connection_id == delivery_of(sent).connection_id
    assert not ReportEvent.objects.exclude(actor_kind__in=ActorKind.values).exists()


def test_a_report_confirmed_by_its_link_names_the_reporter():
    report = unconfirmed_report(title="Lampan är trasig", description="Den blinkar.")
    raw = token_issue(purpose=TokenPurpose.CONFIRM_REPORT, report=report)
    report_confirm(raw_token=raw)
    event = ReportEvent.objects.get(report=report, kind=EventKind.CONFIRMED)
    assert (event.actor_kind, event.actor_user) == (ActorKind.REPORTER, None)


def test_the_status_service_checks_permission_itself(delivered):
    _connection, report = delivered
    elsewhere = confirmed_report(point=LUND)
    lund_handler = case_handler("1281")
    editor = staff_user("malmo-editor-test", "1280", StaffRole.EDITOR)
    citizen = get_user_model().objects.create_user(username="citizen-test")
    refused = [
        (lund_handler, report),  # another kommun's staff
        (editor, report),  # a role that does not work reports
        (citizen, report),  # not staff at all
        (None, report),  # nobody
        (case_handler(), elsewhere),  # Malmö's handler, Lund's report
    ]
    for actor, target in refused:
        with pytest.raises(PermissionDenied):
            report_transition(
                actor=actor, report_id=target.pk, status=ReportStatus.FIXED
            )
    for target in (report, elsewhere):
        target.refresh_from_db()
        assert target.status == ReportStatus.OPEN
        assert not target.events.exclude(kind=EventKind.CONFIRMED).exists()


def test_staff_change_a_report_its_case_system_works_and_the_system_is_told():
    """A body that works its reports in a case system of its own (no inbox):
    its staff change the status in Knutpunkt too, and the case system is told
    through the outbox (an update waiting for the case to be delivered)."""
    connection = connect(ConnectionKind.WEBHOOK, endpoint="http://127.0.0.1:9/")
    report = confirmed_report()
    Connection.objects.filter(body=report.body, kind=ConnectionKind.INBOX).update(
        is_active=False
    )
    event = report_status_change(
        actor=case_handler(), report_id=report.pk, status=ReportStatus.FIXED
    )
    report.refresh_from_db()
    assert report.status == ReportStatus.FIXED
    (update,) = Delivery.objects.filter(report=report, kind=DeliveryKind.UPDATE)
    assert (update.event, update.connection) == (event, connection)
