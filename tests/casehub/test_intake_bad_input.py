"""Whatever a case system sends, every intake path answers a precise 4xx with a
JSON (or Open311 XML) error naming what is wrong, and nothing changes: no status,
no event, no receipt. Never a 500."""

import json
import logging
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from casehub.models import SignalReceipt
from casehub.polling import updates_poll
from devkit.servers import Open311Server
from devkit.webhooks import make_secret, signed_headers
from municipalities.choices import ConnectionKind
from reports.choices import ReportStatus
from reports.models import ReportEvent
from tests.support.casehub import confirmed_report, connect, deliver_due, delivery_of

pytestmark = pytest.mark.django_db

WEBHOOK_ENV = "KNUTPUNKT_CONNECTION_SECRET_BADINPUT"
OPEN311_ENV = "KNUTPUNKT_CONNECTION_SECRET_BADINPUT311"
API_KEY = "api-nyckel-bad-input"

# Well-formed, but no such moment (or none a case system could mean).
IMPOSSIBLE = {
    "30 February": "2026-02-30T10:00:00+01:00",
    "hour 25": "2026-02-10T25:00:00+01:00",
    "offset +25:00": "2026-02-10T10:00:00+25:00",
    "year 0": "0000-01-01T00:00:00+00:00",
    "past the calendar in UTC": "9999-12-31T23:59:59-23:00",
    "a century ahead": "2126-01-01T00:00:00Z",
    "before 2000": "1999-12-31T22:00:00Z",
}
# Those a case system could send when asked for a window of updates: the rest
# it would leave out, as they lie outside any window.
NO_MOMENT = ("30 February", "hour 25", "offset +25:00", "year 0")


@pytest.fixture
def hooked(monkeypatch):
    secret = make_secret()
    monkeypatch.setenv(WEBHOOK_ENV, secret)
    connection = connect(
        ConnectionKind.WEBHOOK, endpoint="http://127.0.0.1:9/", secret_env=WEBHOOK_ENV
    )
    report = confirmed_report()
    delivery = delivery_of(report)
    delivery.state, delivery.external_id = "delivered", "CASE-7"
    delivery.save()
    return connection, report, secret


@pytest.fixture
def open311_case(monkeypatch):
    monkeypatch.setenv(OPEN311_ENV, API_KEY)
    connect(
        ConnectionKind.OPEN311, endpoint="http://127.0.0.1:9/", secret_env=OPEN311_ENV
    )
    report = confirmed_report()
    delivery = delivery_of(report)
    delivery.state, delivery.external_id = "delivered", "1001"
    delivery.save()
    return report


def unchanged(report):
    report.refresh_from_db()
    return (
        report.status == ReportStatus.OPEN
        and not ReportEvent.objects.filter(report=report)
        .exclude(kind="confirmed")
        .exists()
        and not SignalReceipt.objects.filter(report=report).exists()
    )


def post_webhook(client, connection, secret, *, data=None, body=None, **headers):
    body = (
        body
        if body is not None
        else json.dumps({"type": "report.status", "data": data}).encode()
    )
    signed = signed_headers(secret, body, **headers)
    return client.post(
        f"/api/v1/connections/{connection.pk}/signals",
        data=body,
        content_type="application/json",
        headers=signed,
    )


@pytest.mark.parametrize("moment", IMPOSSIBLE.values(), ids=IMPOSSIBLE.keys())
def test_an_impossible_time_in_a_webhook_is_a_400_naming_the_field(
    client, hooked, moment, caplog
):
    connection, report, secret = hooked
    with caplog.at_level(logging.WARNING, logger="knutpunkt"):
        answer = post_webhook(
            client,
            connection,
            secret,
            data={"report_id": report.pk, "status": "fixed", "happened_at": moment},
        )
    assert answer.status_code == 400
    assert "happened_at" in answer.json()["error"]
    assert unchanged(report)
    # Logged with its reason, for the operator.
    assert f"Signal refused (connection {connection.pk})" in caplog.text
    assert answer.json()["error"] in caplog.text


def open311_post(client, fmt, **fields):
    form = {
        "api_key": API_KEY,
        "update_id": "u-1",
        "service_request_id": "1001",
        "status": "fixed",
        "updated_datetime": timezone.now().isoformat(),
    }
    form.update(fields)
    return client.post(f"/open311/v2/servicerequestupdates.{fmt}", form)


def open311_error(answer, fmt) -> tuple[int, str]:
    if fmt == "xml":
        error = ElementTree.fromstring(answer.content).find("error")
        return int(error.findtext("code")), error.findtext("description")
    (error,) = answer.json()
    return error["code"], error["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("moment", IMPOSSIBLE.values(), ids=IMPOSSIBLE.keys())
def test_an_impossible_time_in_an_open311_update_is_a_400_naming_the_field(
    client, open311_case, fmt, moment, caplog
):
    with caplog.at_level(logging.WARNING, logger="knutpunkt"):
        answer = open311_post(client, fmt, updated_datetime=moment)
    assert answer.status_code == 400
    code, description = open311_error(answer, fmt)
    assert code == 400 and "updated_datetime" in description
    assert unchanged(open311_case)
    assert "Open311 update refused" in caplog.text and description in caplog.text


def test_impossible_times_in_polled_updates_are_skipped_and_the_rest_taken(
    monkeypatch, caplog
):
    monkeypatch.setenv(OPEN311_ENV, API_KEY)
    with Open311Server(api_key=API_KEY) as server:
        connection = connect(
            ConnectionKind.OPEN311,
            endpoint=server.url,
            secret_env=OPEN311_ENV,
            poll_updates=True,
        )
        report = confirmed_report()
        assert deliver_due() == ["delivered"]
        case = server.cases[0]["service_request_id"]
        now = timezone.now()
        good = now - timedelta(minutes=1)

        def update(n, moment):
            return {
                "update_id": f"u-{n}",
                "service_request_id": case,
                "status": "fixed",
                "updated_datetime": moment,
                "description": "",
                "media_url": "",
                "external_status_code": "",
            }

        server.updates = [
            update(n, IMPOSSIBLE[name]) for n, name in enumerate(NO_MOMENT)
        ]
        server.updates.append(
            {**update("ok", good.isoformat()), "status": "in_progress"}
        )
        with caplog.at_level(logging.WARNING, logger="knutpunkt.polling"):
            result = updates_poll(connection_id=connection.pk, now=now)
    assert (result.received, result.applied, result.skipped, result.error) == (
        len(NO_MOMENT) + 1,
        1,
        len(NO_MOMENT),
        "",
    )
    assert caplog.text.count("updated_datetime is not a possible") == len(NO_MOMENT)
    report.refresh_from_db()
    assert report.status == ReportStatus.IN_PROGRESS
    connection.refresh_from_db()
    assert connection.updates_cursor == good


# --- whatever the body -----------------------------------------------------------


def test_a_webhook_refuses_what_the_database_could_not_take(client, hooked):
    connection, report, secret = hooked
    cases = {
        "report_id is out of range": {"report_id": 2**70, "status": "fixed"},
        "note contains a NUL": {"report_id": report.pk, "note": "a\x00b"},
        "external_id contains a NUL": {"external_id": "CASE\x00", "status": "fixed"},
        "status must be a string": {"report_id": report.pk, "status": ["fixed"]},
        "handover body contains a NUL": {
            "report_id": report.pk,
            "handover": {"body": "kommun-lund\x00"},
        },
    }
    for reason, data in cases.items():
        answer = post_webhook(client, connection, secret, data=data)
        assert answer.status_code == 400, reason
        assert reason in answer.json()["error"]
    deep = b"[" * 30_000 + b"]" * 30_000
    answer = post_webhook(client, connection, secret, body=deep)
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "The body is not JSON."},
    )
    long_id = post_webhook(
        client,
        connection,
        secret,
        data={"report_id": report.pk, "status": "fixed"},
        msg_id="m" * 201,
    )
    assert long_id.status_code == 400 and "message id" in long_id.json()["error"]
    assert unchanged(report)


def test_a_webhook_answers_other_methods_and_sizes_in_json(client, hooked):
    connection, report, secret = hooked
    url = f"/api/v1/connections/{connection.pk}/signals"
    answer = client.get(url)
    assert (answer.status_code, answer["Allow"]) == (405, "POST")
    assert answer.json() == {"error": "Signals are POSTed."}
    big = json.dumps({"type": "report.status", "data": {"note": "x" * 70_000}})
    answer = post_webhook(client, connection, secret, body=big.encode())
    assert answer.status_code == 413 and "64 KB" in answer.json()["error"]
    answer = client.post(
        url, data=b"{}", content_type="application/json", CONTENT_LENGTH="many"
    )
    assert answer.status_code == 400
    assert unchanged(report)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_open311_update_refuses_unreadable_or_oversized_forms(
    client, open311_case, fmt
):
    url = f"/open311/v2/servicerequestupdates.{fmt}"
    garbage = client.post(
        url,
        data=b"--x\r\nContent-Disposition: form-data\r\n\r\nno end",
        content_type="multipart/form-data",  # and no boundary
    )
    huge = open311_post(client, fmt, description="x" * 70_000)
    long_id = open311_post(client, fmt, update_id="u" * 200)
    nul = open311_post(client, fmt, description="a\x00b")
    method = client.get(url)
    assert [
        open311_error(a, fmt)[0] for a in (garbage, huge, long_id, nul, method)
    ] == [
        400,
        413,
        400,
        400,
        405,
    ]
    assert "update_id" in open311_error(long_id, fmt)[1]
    assert "NUL" in open311_error(nul, fmt)[1]
    assert unchanged(open311_case)


ODD_SIGNALS = {
    "not UTF-8": b'{"type": "report.status", "data": {"note": "\xff\xfe"}}',
    "a JSON list": b"[1, 2, 3]",
    "a JSON string": b'"report.status"',
    "null": b"null",
    "no type": b'{"data": {"status": "fixed"}}',
    "an unknown type": b'{"type": "report.exploded", "data": {"status": "fixed"}}',
    "data a list": b'{"type": "report.status", "data": ["fixed"]}',
    "data a string": b'{"type": "report.status", "data": "fixed"}',
    "report_id a word": b'{"type": "report.status", "data": {"report_id": "abc"}}',
    "report_id true": b'{"type": "report.status", "data": {"report_id": true}}',
    "report_id a fraction": b'{"type": "report.status", "data": {"report_id": 1.5}}',
    "report_id negative": b'{"type": "report.status", "data": {"report_id": -1}}',
    "report_id NaN": b'{"type": "report.status", "data": {"report_id": NaN}}',
    "an unknown status": b'{"type": "report.status", "data": {"status": "exploded"}}',
    "happened_at a number": (
        b'{"type": "report.status", "data": {"status": "fixed", "happened_at": 5}}'
    ),
    "happened_at no time": (
        b'{"type": "report.status", "data": {"status": "fixed", "happened_at": "x"}}'
    ),
    "note an object": b'{"type": "report.status", "data": {"note": {"a": 1}}}',
    "external_id a number": (
        b'{"type": "report.status", "data": {"external_id": 7, "status": "fixed"}}'
    ),
    "handover a string": (
        b'{"type": "report.status", "data": {"status": "fixed", "handover": "x"}}'
    ),
    "an empty object": b"{}",
    "an empty body": b"",
}


@pytest.mark.parametrize("body", ODD_SIGNALS.values(), ids=ODD_SIGNALS.keys())
def test_an_odd_signal_gets_a_json_4xx_and_changes_nothing(client, hooked, body):
    connection, report, secret = hooked
    # The case is this report's, so that only the oddity can be refused.
    body = body.replace(b'"data": {', b'"data": {"external_id": "CASE-7", ', 1)
    answer = post_webhook(client, connection, secret, body=body)
    assert 400 <= answer.status_code < 500
    assert answer["Content-Type"].startswith("application/json")
    assert answer.json()["error"]
    assert unchanged(report)


ODD_UPDATES = {
    "no api_key": {"api_key": ""},
    "a wrong api_key": {"api_key": "fel"},
    "no update_id": {"update_id": ""},
    "no service_request_id": {"service_request_id": ""},
    "an unknown service_request_id": {"service_request_id": "9999999"},
    "an unknown status": {"status": "exploded"},
    "no status": {"status": ""},
    "no updated_datetime": {"updated_datetime": ""},
    "updated_datetime no time": {"updated_datetime": "igår"},
    "a NUL in the id": {"service_request_id": "10\x0001"},
}


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("fields", ODD_UPDATES.values(), ids=ODD_UPDATES.keys())
def test_an_odd_open311_update_gets_an_open311_4xx_and_changes_nothing(
    client, open311_case, fmt, fields
):
    answer = open311_post(client, fmt, **fields)
    code, description = open311_error(answer, fmt)
    assert 400 <= answer.status_code < 500 and code == answer.status_code
    assert description
    assert unchanged(open311_case)
