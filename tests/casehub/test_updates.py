"""Back to the case system: a change staff make in Knutpunkt (a status, a public
reply) reaches the case system holding the report's case through the outbox, as
an Open311 ``POST servicerequestupdates`` (mySociety's extension), a signed
``report.updated`` webhook or an e-mail; with the same key on every retry, the
same retry, health and give-up rules as cases, only once the case is there,
and never for a change that came from the case system itself."""

from datetime import timedelta
from email.utils import parseaddr

import pytest
from django.utils import timezone

from casehub.choices import DeliveryKind, DeliveryState
from casehub.models import Delivery
from casehub.outbox import tokens_resolve, updates_queue
from casehub.services import Signal, signal_accept
from devkit.servers import WebhookReceiver
from devkit.webhooks import make_secret
from municipalities.choices import ConnectionKind, StaffRole
from reports.choices import EventKind, ReportStatus
from reports.models import ReportEvent
from tests.support.casehub import (
    confirmed_report,
    connect,
    deliver_due,
    delivery_of,
    later,
)
from tests.support.people import staff_user
from workspace.services import report_note_add, report_status_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return staff_user("malmo-admin", "1280", StaffRole.ADMIN)


def updates_of(report) -> list[Delivery]:
    return list(
        Delivery.objects.filter(report=report, kind=DeliveryKind.UPDATE).order_by("pk")
    )


def test_a_status_change_reaches_open311_as_a_service_request_update(open311, admin):
    connect(ConnectionKind.OPEN311, endpoint=open311.url)
    report = confirmed_report()
    assert deliver_due() == [DeliveryState.DELIVERED]
    event = report_status_change(
        actor=admin, report_id=report.pk, status=ReportStatus.FIXED, reply="Lagad."
    )
    (update,) = updates_of(report)
    assert (update.event, update.state) == (event, DeliveryState.PENDING)
    assert deliver_due() == [DeliveryState.DELIVERED]
    (post,) = open311.update_posts
    (taken,) = open311.updates_received
    assert post["headers"]["idempotency-key"] == str(update.key)
    assert taken["service_request_id"] == delivery_of(report).external_id == "1001"
    assert taken["update_id"] == str(event.pk)
    assert (taken["status"], taken["description"]) == ("FIXED", "Lagad.")
    assert taken["updated_datetime"].endswith("Z")
    # From Knutpunkt, answerable to the report; nothing of the reporter's.
    assert taken["first_name"] == "Knutpunkt"
    assert taken["email"].startswith("svar+")
    assert "anna@example.org" not in str(post)
    update.refresh_from_db()
    assert (update.state, update.external_id) == (DeliveryState.DELIVERED, "U1")
    # The timeline has the change once; no second "sent" event for an update.
    assert ReportEvent.objects.filter(report=report, kind=EventKind.SENT).count() == 1
    assert deliver_due(now=later(hours=1)) == []


def test_an_update_waits_until_its_case_has_an_id_there(open311, admin):
    """Queued before the case was delivered, and then while the case system
    has answered only a token: the update goes once the token names the case."""
    open311.token_mode, open311.token_ready = True, False
    connect(ConnectionKind.OPEN311, endpoint=open311.url)
    report = confirmed_report()
    report_status_change(
        actor=admin, report_id=report.pk, status=ReportStatus.IN_PROGRESS
    )
    assert len(updates_of(report)) == 1
    assert deliver_due() == [DeliveryState.DELIVERED]  # the case only
    assert deliver_due(now=later(minutes=30)) == []
    assert open311.update_posts == []
    open311.token_ready = True
    assert tokens_resolve(now=later(minutes=10)) == 1
    assert deliver_due() == [DeliveryState.DELIVERED]
    (taken,) = open311.updates_received
    assert (taken["service_request_id"], taken["status"]) == ("1001", "IN_PROGRESS")


def test_an_update_is_retried_after_a_503_and_given_up_after_the_window(open311, admin):
    connection = connect(ConnectionKind.OPEN311, endpoint=open311.url)
    report = confirmed_report()
    assert deliver_due() == [DeliveryState.DELIVERED]
    report_status_change(
        actor=admin, report_id=report.pk, status=ReportStatus.INVESTIGATING
    )
    open311.fail_updates, open311.retry_after = 1, "30"
    assert deliver_due() == [DeliveryState.FAILED]
    (update,) = updates_of(report)
    assert update.last_http_status == 503
    assert update.next_attempt_at > timezone.now() + timedelta(seconds=25)
    connection.refresh_from_db()
    assert "503" in connection.last_error
    assert deliver_due() == []
    assert deliver_due(now=later(seconds=31)) == [DeliveryState.DELIVERED]
    first, second = open311.update_posts
    assert first["headers"]["idempotency-key"] == second["headers"]["idempotency-key"]
    assert len(open311.updates_received) == 1
    connection.refresh_from_db()
    assert connection.last_error == ""

    report_status_change(actor=admin, report_id=report.pk, status=ReportStatus.FIXED)
    Delivery.objects.filter(kind=DeliveryKind.UPDATE, state="pending").update(
        queued_at=timezone.now() - timedelta(days=3)
    )
    open311.status = 503
    assert deliver_due() == [DeliveryState.DEAD]
    assert deliver_due(now=later(days=10)) == []
    assert updates_of(report)[-1].state == DeliveryState.DEAD


def test_a_change_from_the_case_system_is_not_echoed_back(open311, admin):
    connection = connect(ConnectionKind.OPEN311, endpoint=open311.url)
    report = confirmed_report()
    assert deliver_due() == [DeliveryState.DELIVERED]
    outcome = signal_accept(
        signal=Signal(
            connection_id=connection.pk,
            message_id="open311:77",
            external_id="1001",
            status=ReportStatus.FIXED,
            note="Lagad av entreprenören.",
        )
    )
    assert updates_queue(event=ReportEvent.objects.get(pk=outcome.event_id)) == []
    report_note_add(actor=admin, report_id=report.pk, note="Internt: ring Bo")
    assert updates_of(report) == []
    assert deliver_due(now=later(minutes=5)) == []
    assert open311.update_posts == []


def test_a_reply_reaches_a_webhook_receiver_signed_and_retried(monkeypatch, admin):
    secret = make_secret()
    monkeypatch.setenv("KNUTPUNKT_CONNECTION_SECRET_HOOK", secret)
    with WebhookReceiver(secret) as receiver:
        connect(
            ConnectionKind.WEBHOOK,
            endpoint=receiver.url,
            secret_env="KNUTPUNKT_CONNECTION_SECRET_HOOK",
        )
        report = confirmed_report()
        assert deliver_due() == [DeliveryState.DELIVERED]
        receiver.status, receiver.retry_after = 503, "5"
        report_status_change(
            actor=admin,
            report_id=report.pk,
            status=ReportStatus.ACTION_SCHEDULED,
            reply="Vi byter lampan på tisdag.",
        )
        assert deliver_due() == [DeliveryState.FAILED]
        receiver.status, receiver.retry_after = 200, None
        assert deliver_due(now=later(seconds=6)) == [DeliveryState.DELIVERED]
        (update,) = updates_of(report)
        created, updated = receiver.received  # each webhook-id once
        assert receiver.deliveries_seen == 3 and receiver.rejected == []
        assert updated["id"] == f"msg_{update.key}"
        assert updated["json"]["type"] == "report.updated"
        data = updated["json"]["data"]
        assert data["external_id"] == delivery_of(report).external_id == "WH-1"
        assert (data["change"], data["status"]) == ("reply", "action_scheduled")
        assert data["reply"] == "Vi byter lampan på tisdag."
        assert data["handover"] is None and data["id"] == report.pk


def test_an_update_is_emailed_to_the_body_as_a_reply_to_the_case(smtp_server, admin):
    connect(ConnectionKind.EMAIL, email="gatukontoret@malmo.example")
    report = confirmed_report()
    assert deliver_due() == [DeliveryState.DELIVERED]
    report_status_change(
        actor=admin, report_id=report.pk, status=ReportStatus.FIXED, reply="Klart."
    )
    assert deliver_due() == [DeliveryState.DELIVERED]
    case, update = [
        m["message"]
        for m in smtp_server.messages
        if "gatukontoret@malmo.example" in m["to"]
    ]
    assert update["In-Reply-To"] == case["Message-ID"]
    body = update.get_body(("plain",)).get_content()
    assert "Status: Åtgärdad" in body or "Åtgärdad" in body
    assert "Klart." in body and report.get_absolute_url() in body
    assert parseaddr(update["Reply-To"])[1].startswith("svar+")


def test_the_deliveries_screen_shows_updates_by_kind(client, open311, admin):
    connect(ConnectionKind.OPEN311, endpoint=open311.url)
    report = confirmed_report()
    assert deliver_due() == [DeliveryState.DELIVERED]
    report_status_change(actor=admin, report_id=report.pk, status=ReportStatus.FIXED)
    (update,) = updates_of(report)
    client.force_login(admin)
    html = client.get("/admin/deliveries/", {"kind": "update"}).content.decode()
    assert f"/admin/deliveries/{update.pk}/" in html
    assert f"/admin/deliveries/{delivery_of(report).pk}/" not in html
    assert "Update" in html
    detail = client.get(f"/admin/deliveries/{update.pk}/").content.decode()
    assert f"Update of report #{report.pk}" in detail
    assert "Status changed" in detail
    lund = staff_user("lund-admin", "1281", StaffRole.ADMIN)
    client.force_login(lund)
    assert client.get(f"/admin/deliveries/{update.pk}/").status_code == 404
