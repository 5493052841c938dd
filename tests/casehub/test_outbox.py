"""The outbox against real case systems on loopback: Open311, a signed webhook,
e-mail over SMTP, and the platform's own inbox."""

import socket
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casehub.choices import DeliveryState
from casehub.connectors.email import reply_address, report_id_from_reply
from casehub.models import Delivery, DeliveryAttempt
from casehub.outbox import (
    deliveries_claim,
    delivery_attempt,
    delivery_resend,
    retry_delay,
    tokens_resolve,
)
from devkit.servers import Open311Server, WebhookReceiver
from devkit.webhooks import make_secret
from municipalities.choices import ConnectionKind
from municipalities.models import (
    CategoryQuestion,
    Connection,
    ConnectionService,
    Municipality,
    Route,
)
from reports.choices import EventKind
from reports.models import Report, ReportEvent
from reports.photos import process_photo
from tests.support.casehub import (
    LUND,
    confirmed_report,
    connect,
    deliver_due,
    delivery_of,
    lamp_category,
    later,
    unconfirmed_report,
)
from tests.support.photos import jpeg

pytestmark = pytest.mark.django_db


def test_inbox_is_the_demo_default_and_delivers_at_once(client):
    report = confirmed_report()
    delivery = delivery_of(report)
    assert delivery.connection.kind == ConnectionKind.INBOX
    assert delivery.state == DeliveryState.PENDING
    assert deliver_due() == [DeliveryState.DELIVERED]
    delivery.refresh_from_db()
    assert delivery.external_id == f"KP-{report.pk}"
    event = ReportEvent.objects.get(report=report, kind=EventKind.SENT)
    assert event.data == {"body": "Malmö kommun", "reference": f"KP-{report.pk}"}
    page = client.get(report.get_absolute_url()).content.decode()
    assert f"Sent to Malmö kommun, reference KP-{report.pk}" in page


def test_unconfirmed_report_is_not_delivered(client, smtp_server):
    report = unconfirmed_report()
    assert not Delivery.objects.filter(report=report).exists()
    assert deliver_due() == []


def test_open311_request_carries_the_report_and_not_the_reporter(open311):
    connect(ConnectionKind.OPEN311, endpoint=open311.url)
    report = confirmed_report()
    assert deliver_due() == [DeliveryState.DELIVERED]
    delivery = delivery_of(report)
    assert delivery.external_id == "1001"
    (request,) = open311.requests
    form = request["form"]
    assert form["service_code"] == "001"
    assert float(form["lat"]) == pytest.approx(55.605)
    assert float(form["long"]) == pytest.approx(13.0038)
    assert "Gatlampan blinkar" in form["description"]
    assert form["attribute[knutpunkt_report_id]"] == str(report.pk)
    assert request["key"] == str(delivery.key)
    for personal in ("email", "first_name", "last_name", "phone"):
        assert personal not in form
    assert "anna@example.org" not in str(request)


def test_open311_sends_contact_with_consent_or_where_required(open311, monkeypatch):
    monkeypatch.setenv("KNUTPUNKT_CONNECTION_SECRET_MALMO", "nyckel-123")
    open311.api_key = "nyckel-123"
    connection = connect(
        ConnectionKind.OPEN311,
        endpoint=open311.url,
        secret_env="KNUTPUNKT_CONNECTION_SECRET_MALMO",
    )
    confirmed_report(share_contact=True)
    deliver_due()
    form = open311.requests[-1]["form"]
    assert (form["email"], form["first_name"], form["last_name"]) == (
        "anna@example.org",
        "Anna",
        "Andersson",
    )
    assert form["phone"] == "040-123456"
    connection.send_contact = True
    connection.save()
    confirmed_report(share_contact=False)
    deliver_due()
    assert open311.requests[-1]["form"]["email"] == "anna@example.org"
    assert len(open311.cases) == 2


def test_open311_answers_and_photos_go_as_attributes_and_media_url(open311):
    category = lamp_category()
    CategoryQuestion.objects.create(
        category=category, code="stolpnummer", label="Stolpnummer", kind="text"
    )
    connection = connect(ConnectionKind.OPEN311, endpoint=open311.url)
    connection.services.update(
        definition={
            "attributes": [
                {"code": "stolpnummer", "values": []},
            ]
        }
    )

    photo = process_photo(jpeg(), name="lampa.jpg")
    report = confirmed_report(answers={"stolpnummer": "A-17"}, photos=[photo])
    deliver_due()
    form = open311.requests[-1]["form"]
    assert form["attribute[stolpnummer]"] == "A-17"
    assert form["media_url"].endswith(report.photos.get().image.url)
    assert form["media_url"].startswith("http")


def test_open311_token_is_resolved_to_the_service_request_id(open311):
    open311.token_mode = True
    open311.token_ready = False
    connect(ConnectionKind.OPEN311, endpoint=open311.url)
    report = confirmed_report()
    deliver_due()
    delivery = delivery_of(report)
    assert (delivery.state, delivery.external_token, delivery.external_id) == (
        DeliveryState.DELIVERED,
        "tok-1001",
        "",
    )
    assert tokens_resolve(now=later(minutes=5)) == 0
    open311.token_ready = True
    assert tokens_resolve(now=later(minutes=10)) == 1
    delivery.refresh_from_db()
    assert delivery.external_id == "1001"
    assert deliver_due(now=later(minutes=20)) == []  # never sent twice
    assert len(open311.cases) == 1
    assert ReportEvent.objects.filter(
        report=report, kind=EventKind.SENT, data__reference="1001"
    ).exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "setup, reason",
    [
        (lambda s: setattr(s, "status", 500), "HTTP 500"),
        (lambda s: setattr(s, "delay", 2.5), "no answer within 2 s"),
        (
            lambda s: setattr(
                s,
                "raw_response",
                (
                    502,
                    "text/html",
                    b"<html><head><title>Bad Gateway</title></head><body>nginx</body></html>",
                ),
            ),
            "an HTML page titled “Bad Gateway”",
        ),
        (
            lambda s: setattr(s, "raw_response", (200, "text/plain", b"OK")),
            "expected JSON",
        ),
        (
            lambda s: setattr(s, "raw_response", (201, "application/json", b"[{]")),
            "malformed JSON",
        ),
        (
            lambda s: setattr(
                s,
                "raw_response",
                (200, "application/json", b"[" + b" " * 5_000_000 + b"]"),
            ),
            "larger than 256 KB",
        ),
        (
            lambda s: setattr(s, "raw_response", (201, "application/json", b"[{}]")),
            "neither service_request_id nor token",
        ),
    ],
    ids=["500", "timeout", "html", "wrong-type", "malformed", "huge", "no-id"],
)
def test_failed_attempt_is_recorded_with_a_readable_reason_and_retried(
    open311, setup, reason
):
    connection = connect(
        ConnectionKind.OPEN311, endpoint=open311.url, timeout_seconds=2
    )
    report = confirmed_report()
    setup(open311)
    before = timezone.now()
    assert deliver_due() == [DeliveryState.FAILED]
    delivery = delivery_of(report)
    assert reason in delivery.last_error
    # First retry after half to all of a minute (backoff with jitter).
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 29 <= wait <= 65
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert not attempt.succeeded and reason in attempt.error
    connection.refresh_from_db()
    assert reason in connection.last_error
    # The case system recovers: the retry delivers.
    open311.status = open311.raw_response = None
    open311.delay = 0
    assert deliver_due(now=later(minutes=2)) == [DeliveryState.DELIVERED]
    connection.refresh_from_db()
    assert connection.consecutive_failures == 0 and connection.last_success_at


def test_connection_refused_is_a_failed_attempt():
    connect(
        ConnectionKind.OPEN311, endpoint=f"http://127.0.0.1:{_closed_port()}/open311/"
    )
    report = confirmed_report()
    assert deliver_due() == [DeliveryState.FAILED]
    assert "connection refused" in delivery_of(report).last_error


def test_429_retry_after_holds_the_whole_connection(open311):
    connection = connect(ConnectionKind.OPEN311, endpoint=open311.url)
    first, second = confirmed_report(), confirmed_report()
    open311.status, open311.retry_after = 429, "120"
    connection.max_in_flight = 1
    connection.save()
    assert deliver_due() == [DeliveryState.FAILED]
    connection.refresh_from_db()
    wait = (connection.circuit_open_until - timezone.now()).total_seconds()
    assert 110 <= wait <= 121
    assert deliver_due(now=later(seconds=60)) == []  # neither waiting report goes
    open311.status = None
    assert deliver_due(now=later(seconds=125)) == [DeliveryState.DELIVERED]
    assert {delivery_of(first).state, delivery_of(second).state} >= {
        DeliveryState.DELIVERED
    }


def test_410_switches_the_connection_off_and_keeps_the_delivery(open311):
    connection = connect(ConnectionKind.OPEN311, endpoint=open311.url)
    report = confirmed_report()
    open311.status = 410
    assert deliver_due() == [DeliveryState.FAILED]
    connection.refresh_from_db()
    assert not connection.is_active and "switched off" in connection.last_error
    assert deliver_due(now=later(hours=1)) == []
    connection.is_active = True
    connection.save()
    open311.status = None
    assert deliver_due() == [DeliveryState.DELIVERED]
    assert delivery_of(report).external_id == "1001"


def test_misconfigured_connections_fail_visibly_and_lose_nothing(open311):
    connection = connect(ConnectionKind.OPEN311, endpoint="")
    report = confirmed_report()
    assert deliver_due() == [DeliveryState.FAILED]
    assert "no endpoint URL" in delivery_of(report).last_error
    connection.refresh_from_db()
    assert "no endpoint URL" in connection.last_error
    # Unknown service code: this delivery's problem, not the connection's.
    connection.endpoint = open311.url
    connection.save()
    connection.services.all().delete()
    assert deliver_due(now=later(minutes=2)) == [DeliveryState.FAILED]
    assert "No Open311 service code" in delivery_of(report).last_error
    # The case system does not know the code we map to.

    ConnectionService.objects.create(
        connection=connection, category=report.category, service_code="999"
    )
    assert deliver_due(now=later(minutes=10)) == [DeliveryState.FAILED]
    assert "service_code" in delivery_of(report).last_error
    connection.refresh_from_db()
    assert connection.consecutive_failures == 1  # only the missing URL counted
    assert open311.cases == []


def test_circuit_opens_after_repeated_failures_and_others_still_go(open311, settings):
    with Open311Server() as healthy:
        broken = connect(ConnectionKind.OPEN311, endpoint=open311.url, max_in_flight=1)
        open311.status = 503
        stuck = [confirmed_report() for _ in range(7)]

        lund_body = Connection.objects.get(body__slug="kommun-lund").body
        lund = Connection.objects.create(
            body=lund_body, name="Lund", kind="open311", endpoint=healthy.url
        )
        ConnectionService.objects.create(
            connection=lund, category=lamp_category(), service_code="001"
        )
        Route.objects.filter(
            municipality=Municipality.objects.get(code="1281"),
            category=lamp_category(),
        ).update(connection=lund)
        moment = timezone.now()
        for n in range(5):
            deliver_due(now=moment + timedelta(hours=n))
        broken.refresh_from_db()
        assert broken.consecutive_failures == 5
        assert broken.circuit_open_until > timezone.now() + timedelta(seconds=50)
        attempts_so_far = len(open311.requests)
        # The broken system is not asked again while the circuit is open, and a
        # report elsewhere goes at once.
        elsewhere = confirmed_report(point=LUND)
        assert deliver_due(now=broken.circuit_open_until - timedelta(seconds=1)) == [
            DeliveryState.DELIVERED
        ]
        assert delivery_of(elsewhere).external_id == "1001"
        assert len(open311.requests) == attempts_so_far
        # Half-open: one probe; it succeeds and the circuit closes.
        open311.status = None
        probe_time = broken.circuit_open_until + timedelta(hours=10)
        assert deliver_due(now=probe_time) == [DeliveryState.DELIVERED]
        broken.refresh_from_db()
        assert broken.consecutive_failures == 0 and broken.circuit_open_until is None
        broken.max_in_flight = 4
        broken.save()
        deliver_due(now=probe_time)
        deliver_due(now=probe_time)
        assert {delivery_of(r).state for r in stuck} == {DeliveryState.DELIVERED}
        assert len(open311.cases) == 7


def test_given_up_after_three_days_then_resent_by_staff(open311):
    connect(ConnectionKind.OPEN311, endpoint=open311.url)
    report = confirmed_report()
    Delivery.objects.filter(report=report).update(
        queued_at=timezone.now() - timedelta(days=3)
    )
    open311.status = 500
    assert deliver_due() == [DeliveryState.DEAD]
    assert deliver_due(now=later(days=10)) == []
    delivery = delivery_resend(delivery_id=delivery_of(report).pk)
    assert delivery.state == DeliveryState.PENDING
    open311.status = None
    assert deliver_due() == [DeliveryState.DELIVERED]


def test_backoff_grows_and_is_capped():
    delays = [retry_delay(n) for n in range(1, 16)]
    assert 30 <= delays[0] <= 60
    assert 60 <= delays[1] <= 120
    assert all(3 * 3600 <= d <= 6 * 3600 for d in delays[10:])


def test_an_expired_lease_is_taken_back_and_the_first_result_discarded(open311):
    connect(ConnectionKind.OPEN311, endpoint=open311.url)
    report = confirmed_report()
    (first,) = deliveries_claim(limit=10)
    assert deliveries_claim(limit=10) == []  # leased
    (second,) = deliveries_claim(limit=10, now=later(minutes=5))  # lease ran out
    assert delivery_attempt(claim=first) is None  # no longer ours
    assert delivery_attempt(claim=second) == DeliveryState.DELIVERED
    delivery = delivery_of(report)
    assert delivery.attempts == 2
    assert len(open311.cases) == 1
    assert open311.requests[-1]["key"] == str(delivery.key)


def test_in_flight_deliveries_per_connection_are_capped(open311):
    connection = connect(ConnectionKind.OPEN311, endpoint=open311.url)
    connection.max_in_flight = 3
    connection.save()
    for _ in range(5):
        confirmed_report()
    assert len(deliveries_claim(limit=10)) == 3
    assert deliveries_claim(limit=10) == []


def test_an_idle_dispatcher_asks_without_opening_a_transaction(open311):
    connect(ConnectionKind.OPEN311, endpoint=open311.url)
    confirmed_report()
    assert len(deliveries_claim(limit=10)) == 1  # now leased: nothing is due
    with CaptureQueriesContext(db) as idle:
        assert deliveries_claim(limit=10) == []
    # One read, and no (nested) transaction: on SQLite that would take the
    # write lock every time the dispatcher looks for work.
    assert len(idle.captured_queries) == 1
    assert "SAVEPOINT" not in idle.captured_queries[0]["sql"].upper()


# --- webhook ---------------------------------------------------------------------


def test_webhook_is_signed_and_its_external_id_kept(monkeypatch):
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
        (message,) = receiver.received
        delivery = delivery_of(report)
        assert message["id"] == f"msg_{delivery.key}"
        data = message["json"]["data"]
        assert message["json"]["type"] == "report.created"
        assert (data["id"], data["category"]["name"]) == (report.pk, "Gatubelysning")
        assert data["contact"] is None
        assert delivery.external_id == "WH-1"
        assert receiver.rejected == []


def test_webhook_signs_with_both_secrets_while_rotating(monkeypatch):
    old, new = make_secret(), make_secret()
    monkeypatch.setenv("KNUTPUNKT_CONNECTION_SECRET_HOOK", f"{new} {old}")
    with WebhookReceiver(old) as still_old, WebhookReceiver(new) as already_new:
        connection = connect(
            ConnectionKind.WEBHOOK,
            endpoint=still_old.url,
            secret_env="KNUTPUNKT_CONNECTION_SECRET_HOOK",
        )
        for receiver in (still_old, already_new):
            connection.endpoint = receiver.url
            connection.save()
            confirmed_report()
            assert deliver_due() == [DeliveryState.DELIVERED]
            assert len(receiver.received) == 1 and receiver.rejected == []


def test_webhook_with_a_wrong_secret_is_refused_and_retried(monkeypatch):
    monkeypatch.setenv("KNUTPUNKT_CONNECTION_SECRET_HOOK", make_secret())
    with WebhookReceiver(make_secret()) as receiver:
        connect(
            ConnectionKind.WEBHOOK,
            endpoint=receiver.url,
            secret_env="KNUTPUNKT_CONNECTION_SECRET_HOOK",
        )
        report = confirmed_report()
        assert deliver_due() == [DeliveryState.FAILED]
        assert "HTTP 401" in delivery_of(report).last_error
        assert receiver.rejected == ["invalid signature"]


@pytest.mark.parametrize(
    "value, reason",
    [
        (None, "is not set"),
        ("not-a-secret", "starts with whsec_"),
        ("whsec_!!!", "followed by base64"),
    ],
)
def test_webhook_secret_problems_are_named(monkeypatch, value, reason):
    if value is None:
        monkeypatch.delenv("KNUTPUNKT_CONNECTION_SECRET_HOOK", raising=False)
    else:
        monkeypatch.setenv("KNUTPUNKT_CONNECTION_SECRET_HOOK", value)
    connect(
        ConnectionKind.WEBHOOK,
        endpoint="http://127.0.0.1:9/",
        secret_env="KNUTPUNKT_CONNECTION_SECRET_HOOK",
    )
    report = confirmed_report()
    assert deliver_due() == [DeliveryState.FAILED]
    assert reason in delivery_of(report).last_error


def test_secret_variables_must_carry_the_prefix():
    connection = Connection(
        body=Connection.objects.first().body,
        name="x",
        kind="webhook",
        endpoint="https://example.org/",
        secret_env="DJANGO_SECRET_KEY",
    )
    with pytest.raises(ValidationError) as error:
        connection.full_clean()
    assert "secret_env" in error.value.message_dict


def test_private_addresses_are_refused_in_production_settings(open311, settings):
    settings.KNUTPUNKT_CONNECTIONS_ALLOW_PRIVATE = False
    connect(ConnectionKind.OPEN311, endpoint=open311.url)
    report = confirmed_report()
    assert deliver_due() == [DeliveryState.FAILED]
    assert "private address" in delivery_of(report).last_error
    assert open311.requests == []


# --- e-mail --------------------------------------------------------------------------


def test_email_case_has_every_field_photos_and_a_reply_address(smtp_server):
    connect(ConnectionKind.EMAIL, email="gatukontoret@malmo.example")
    report = confirmed_report(photos=[process_photo(jpeg(), name="a.jpg")])
    # Half past eleven at night in UTC: the next day in Stockholm.
    late = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    Report.objects.filter(pk=report.pk).update(confirmed_at=late)
    assert deliver_due() == [DeliveryState.DELIVERED]
    (mail,) = [
        m for m in smtp_server.messages if "gatukontoret@malmo.example" in m["to"]
    ]
    message = mail["message"]
    body = message.get_body(("plain",)).get_content()
    assert "Anmäld: 7 december 2026 00:30" in body
    for text in ("Gatubelysning", "Lampan är trasig", "Gatlampan blinkar", "55.605000"):
        assert text in body
    assert report.get_absolute_url() in body
    assert "anna@example.org" not in message.as_string()
    attachments = list(message.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["image/jpeg"]
    delivery = delivery_of(report)
    assert message["Message-ID"] == f"<{delivery.external_id}>"
    assert report_id_from_reply(message["Reply-To"]) == report.pk
    tampered = reply_address(report.pk).replace(f"+{report.pk}.", f"+{report.pk + 1}.")
    assert report_id_from_reply(tampered) is None


def test_email_to_an_unreachable_mail_server_is_retried(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    connect(ConnectionKind.EMAIL, email="gatukontoret@malmo.example")
    report = confirmed_report()
    assert deliver_due() == [DeliveryState.FAILED]
    assert "Sending e-mail failed" in delivery_of(report).last_error
