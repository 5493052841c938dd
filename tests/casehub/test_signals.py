"""Status signals in: signed webhooks and Open311 updates POSTed to us, and the
hub's rules (idempotent, order-safe, never un-hiding, one event each)."""

import json
import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from casehub.services import Signal, signal_accept
from devkit.webhooks import make_secret, signed_headers
from municipalities.choices import ConnectionKind
from municipalities.models import Connection
from reports.choices import EventKind, ReportStatus
from reports.models import Report, ReportEvent
from reports.notifications import followers_notify
from tests.support.casehub import confirmed_report, connect, deliver_due, delivery_of

pytestmark = pytest.mark.django_db

SECRET_ENV = "KNUTPUNKT_CONNECTION_SECRET_HUB"


@pytest.fixture
def secret(monkeypatch):
    value = make_secret()
    monkeypatch.setenv(SECRET_ENV, value)
    return value


@pytest.fixture
def hooked(secret):
    """A Malmö report delivered through a webhook connection (to nowhere: the
    delivery is marked as done by hand)."""
    connection = connect(
        ConnectionKind.WEBHOOK, endpoint="http://127.0.0.1:9/", secret_env=SECRET_ENV
    )
    report = confirmed_report()
    delivery = delivery_of(report)
    delivery.state, delivery.external_id = "delivered", "CASE-7"
    delivery.save()
    return connection, report


def post_signal(
    client, connection, data, *, secret, msg_id=None, timestamp=None, raw=None
):
    body = (
        raw
        if raw is not None
        else json.dumps({"type": "report.status", "data": data}).encode()
    )
    headers = signed_headers(
        secret,
        body,
        msg_id=msg_id or f"msg_{time.monotonic_ns()}",
        timestamp=timestamp or int(time.time()),
    )
    return client.post(
        f"/api/v1/connections/{connection.pk}/signals",
        data=body,
        content_type="application/json",
        headers=headers,
    )


def test_a_signed_signal_changes_the_status_and_adds_one_event(client, hooked, secret):
    connection, report = hooked
    answer = post_signal(
        client,
        connection,
        {
            "report_id": report.pk,
            "status": "in_progress",
            "note": "Vi har beställt en lampa.",
        },
        secret=secret,
    )
    assert answer.status_code == 202, answer.content
    report.refresh_from_db()
    assert report.status == ReportStatus.IN_PROGRESS
    event = ReportEvent.objects.get(pk=answer.json()["event_id"])
    assert (event.kind, event.status, event.note) == (
        EventKind.STATUS,
        ReportStatus.IN_PROGRESS,
        "Vi har beställt en lampa.",
    )
    page = client.get(report.get_absolute_url()).content.decode()
    assert "Vi har beställt en lampa." in page


def test_the_external_id_names_the_report_too(client, hooked, secret):
    connection, report = hooked
    answer = post_signal(
        client, connection, {"external_id": "CASE-7", "status": "FIXED"}, secret=secret
    )
    assert answer.status_code == 202
    report.refresh_from_db()
    assert report.status == ReportStatus.FIXED


def test_a_repeated_webhook_id_is_success_and_changes_nothing(client, hooked, secret):
    connection, report = hooked
    data = {"report_id": report.pk, "status": "investigating", "note": "Tittar."}
    first = post_signal(client, connection, data, secret=secret, msg_id="msg_1")
    again = post_signal(client, connection, data, secret=secret, msg_id="msg_1")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["duplicate"] is True
    assert ReportEvent.objects.filter(report=report, note="Tittar.").count() == 1


def test_an_older_signal_is_kept_but_does_not_change_the_status(client, hooked, secret):
    connection, report = hooked
    now = timezone.now()
    post_signal(
        client,
        connection,
        {"report_id": report.pk, "status": "fixed", "happened_at": now.isoformat()},
        secret=secret,
    )
    late = post_signal(
        client,
        connection,
        {
            "report_id": report.pk,
            "status": "in_progress",
            "note": "Påbörjat",
            "happened_at": (now - timedelta(hours=2)).isoformat(),
        },
        secret=secret,
    )
    assert late.status_code == 202 and late.json()["superseded"] is True
    report.refresh_from_db()
    assert report.status == ReportStatus.FIXED
    kept = ReportEvent.objects.get(pk=late.json()["event_id"])
    assert kept.superseded and kept.note == "Påbörjat"


def test_a_signal_never_makes_a_hidden_report_public(client, hooked, secret):
    connection, report = hooked
    Report.objects.filter(pk=report.pk).update(is_hidden=True)
    answer = post_signal(
        client, connection, {"report_id": report.pk, "status": "fixed"}, secret=secret
    )
    assert answer.status_code == 202
    report.refresh_from_db()
    assert report.is_hidden and report.status == ReportStatus.FIXED
    assert not Report.objects.public().filter(pk=report.pk).exists()


@pytest.mark.parametrize(
    "change, status, reason",
    [
        ({"headers": "none"}, 401, "missing"),
        ({"secret": "other"}, 401, "no valid signature"),
        ({"timestamp": -400}, 401, "5-minute window"),
        ({"timestamp": +400}, 401, "5-minute window"),
        ({"raw": b"not json"}, 400, "not JSON"),
        ({"data": {"status": "fixed"}}, 400, "names no report"),
        ({"data": {"report_id": "12", "status": "fixed"}}, 400, "integer"),
        ({"data": {"report_id": 0, "status": "sparkled"}}, 400, "Unknown status"),
        ({"data": {"report_id": 999999, "status": "fixed"}}, 404, "No report"),
        ({"data": {"external_id": "NOPE", "status": "fixed"}}, 404, "No report"),
        ({"data": {"report_id": 0, "happened_at": "igår"}}, 400, "ISO 8601"),
    ],
)
def test_bad_signals_are_refused_with_a_reason_and_change_nothing(
    client, hooked, secret, change, status, reason, caplog
):
    connection, report = hooked
    data = change.get("data", {"report_id": report.pk, "status": "fixed"})
    if data.get("report_id") == 0:
        data["report_id"] = report.pk
    if change.get("headers") == "none":
        answer = client.post(
            f"/api/v1/connections/{connection.pk}/signals",
            data=json.dumps({"data": data}),
            content_type="application/json",
        )
    else:
        answer = post_signal(
            client,
            connection,
            data,
            secret=make_secret() if change.get("secret") else secret,
            timestamp=int(time.time()) + change["timestamp"]
            if "timestamp" in change
            else None,
            raw=change.get("raw"),
        )
    assert answer.status_code == status
    assert reason in answer.json()["error"]
    assert reason in caplog.text
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN
    assert not ReportEvent.objects.filter(report=report, kind=EventKind.STATUS).exists()


def test_a_signal_about_another_connections_report_is_forbidden(client, hooked, secret):
    connection, _report = hooked

    elsewhere = confirmed_report()
    # Delivered through the other (inbox) connection, not this webhook.
    delivery = delivery_of(elsewhere)
    delivery.connection = Connection.objects.get(body__slug="kommun-lund")
    delivery.save()
    answer = post_signal(
        client,
        connection,
        {"report_id": elsewhere.pk, "status": "fixed"},
        secret=secret,
    )
    assert answer.status_code == 403


def test_a_rotated_secret_still_verifies(client, hooked, secret, monkeypatch):
    connection, report = hooked
    new = make_secret()
    monkeypatch.setenv(SECRET_ENV, f"{new} {secret}")
    for signer in (secret, new):
        answer = post_signal(
            client,
            connection,
            {"report_id": report.pk, "note": signer[-6:]},
            secret=signer,
        )
        assert answer.status_code == 202


def test_handover_moves_the_report_and_delivers_it_to_the_new_body(
    client, hooked, secret
):
    connection, report = hooked
    answer = post_signal(
        client,
        connection,
        {
            "report_id": report.pk,
            "note": "Statlig väg.",
            "handover": {"body": "trafikverket"},
        },
        secret=secret,
    )
    assert answer.status_code == 202, answer.content
    report.refresh_from_db()
    assert report.body.slug == "trafikverket"
    event = ReportEvent.objects.get(pk=answer.json()["event_id"])
    assert event.kind == EventKind.HANDOVER and event.data["to"] == "Trafikverket"
    assert deliver_due() == ["delivered"]
    assert report.deliveries.filter(connection__body__slug="trafikverket").exists()
    page = client.get(report.get_absolute_url()).content.decode()
    assert "Handed over to Trafikverket" in page


# --- Open311 servicerequestupdates POSTed to us -----------------------------------


@pytest.fixture
def open311_report(monkeypatch):
    monkeypatch.setenv("KNUTPUNKT_CONNECTION_SECRET_O311", "api-nyckel")
    connection = connect(
        ConnectionKind.OPEN311,
        endpoint="http://127.0.0.1:9/",
        secret_env="KNUTPUNKT_CONNECTION_SECRET_O311",
    )
    report = confirmed_report()
    delivery = delivery_of(report)
    delivery.state, delivery.external_id = "delivered", "1001"
    delivery.save()
    return connection, report


def update(**fields):
    form = {
        "api_key": "api-nyckel",
        "update_id": "u-1",
        "service_request_id": "1001",
        "status": "IN_PROGRESS",
        "updated_datetime": timezone.now().isoformat(),
        "description": "Arbetet har börjat.",
        "external_status_code": "A12",
    }
    form.update(fields)
    return {k: v for k, v in form.items() if v is not None}


def test_open311_update_json(client, open311_report):
    _connection, report = open311_report
    answer = client.post("/open311/v2/servicerequestupdates.json", update())
    assert answer.status_code == 200
    assert answer.json() == [{"update_id": "u-1"}]
    report.refresh_from_db()
    assert report.status == ReportStatus.IN_PROGRESS
    event = report.events.get(kind=EventKind.STATUS)
    assert (event.note, event.external_status_code) == ("Arbetet har börjat.", "A12")
    # A sender retrying the same update_id gets 2xx and nothing changes.
    again = client.post("/open311/v2/servicerequestupdates.json", update())
    assert again.status_code == 200
    assert report.events.filter(kind=EventKind.STATUS).count() == 1


def test_open311_update_xml_and_its_errors(client, open311_report):
    _connection, report = open311_report
    answer = client.post(
        "/open311/v2/servicerequestupdates.xml",
        update(status="not_councils_responsibility"),
    )
    assert answer.status_code == 200
    assert "<update_id>u-1</update_id>" in answer.content.decode()
    report.refresh_from_db()
    assert report.status == ReportStatus.NOT_RESPONSIBLE
    bad = client.post("/open311/v2/servicerequestupdates.xml", update(api_key="fel"))
    assert bad.status_code == 401
    assert "<errors><error><code>401</code>" in bad.content.decode()


@pytest.mark.parametrize(
    "fields, status",
    [
        ({"api_key": None}, 401),
        ({"update_id": None}, 400),
        ({"status": "blinking"}, 400),
        ({"updated_datetime": "yesterday"}, 400),
        ({"service_request_id": "9999"}, 404),
    ],
)
def test_bad_open311_updates_are_refused(client, open311_report, fields, status):
    _connection, report = open311_report
    answer = client.post("/open311/v2/servicerequestupdates.json", update(**fields))
    assert answer.status_code == status
    assert answer.json()[0]["code"] == status
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN


# --- e-mail to followers --------------------------------------------------------


def test_followers_get_one_email_per_batch_and_can_unsubscribe(
    client, hooked, secret, smtp_server, django_capture_on_commit_callbacks
):
    connection, report = hooked
    with django_capture_on_commit_callbacks(execute=True):
        post_signal(
            client,
            connection,
            {"report_id": report.pk, "status": "investigating"},
            secret=secret,
        )
    (mail,) = smtp_server.bodies_to("anna@example.org")
    assert "Utreds" in mail  # in the language the report was made in

    link = re.search(r"http://\S+/avfolj/\S+/", mail).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.get("/" + path).status_code == 200
    assert report.subscriptions.count() == 1  # GET only asks
    assert client.post("/" + path).status_code == 200
    assert report.subscriptions.count() == 0
    assert client.get("/avfolj/forged-token/").status_code == 404


def test_changes_within_the_window_wait_for_one_batched_email(hooked, settings):
    """With the database task backend: the first change goes at once, the next
    ones are queued for when the 10-minute window ends, as one task."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    connection, report = hooked
    for n, status in enumerate(["investigating", "in_progress", "fixed"]):
        signal_accept(
            signal=Signal(
                connection_id=connection.pk,
                message_id=f"m{n}",
                report_id=report.pk,
                status=ReportStatus(status),
            )
        )
        if n == 0:
            (first,) = DBTaskResult.objects.all()
            assert followers_notify(report.pk) == 1
            first.delete()
    (batched,) = DBTaskResult.objects.all()
    report.refresh_from_db()
    wait = (batched.run_after - report.notified_at).total_seconds()
    assert 599 <= wait <= 601
    assert followers_notify(report.pk) == 1  # one e-mail for both changes
