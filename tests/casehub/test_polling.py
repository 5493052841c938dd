"""Polling a body's Open311 servicerequestupdates: updates become status signals,
the cursor moves on (with an overlap), failures are recorded and nothing is lost."""

import logging
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from casehub import polling
from casehub.connectors import DeliveryError, Open311Connector
from casehub.polling import (
    ERROR_PREFIX,
    OVERLAP,
    updates_claim,
    updates_poll,
    updates_poll_due,
)
from devkit.servers import Open311Server
from municipalities.choices import ConnectionKind
from municipalities.models import Connection
from reports.choices import EventKind, ReportStatus
from reports.models import ReportEvent
from tests.support.casehub import (
    confirmed_report,
    connect,
    deliver_due,
    delivery_of,
)

pytestmark = pytest.mark.django_db

SECRET_ENV = "KNUTPUNKT_CONNECTION_SECRET_POLL"
API_KEY = "poll-nyckel"
INTERVAL = timedelta(seconds=60)


def w3c(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def server():
    with Open311Server(api_key=API_KEY) as running:
        yield running


@pytest.fixture
def polled(monkeypatch, server):
    """A Malmö report delivered to the loopback Open311 system, which polls."""
    monkeypatch.setenv(SECRET_ENV, API_KEY)
    connection = connect(
        ConnectionKind.OPEN311,
        endpoint=server.url,
        secret_env=SECRET_ENV,
        poll_updates=True,
    )
    report = confirmed_report()
    assert deliver_due() == ["delivered"]
    case = server.cases[0]["service_request_id"]
    assert delivery_of(report).external_id == case
    return connection, report, case


@pytest.fixture
def t0():
    return timezone.now()


def update(update_id, status, at, case, **fields):
    return {
        "update_id": update_id,
        "service_request_id": case,
        "status": status,
        "updated_datetime": at.isoformat(),
        "description": "",
        "media_url": "",
        "external_status_code": "",
        **fields,
    }


def status_events(report):
    return ReportEvent.objects.filter(report=report, kind=EventKind.STATUS).order_by(
        "happened_at"
    )


def test_updates_become_the_reports_status_with_events(server, polled, t0):
    connection, report, case = polled
    server.updates = [
        update(
            "u-2",
            "IN_PROGRESS",
            t0 + timedelta(minutes=2),
            case,
            description="Arbetet har börjat.",
            external_status_code="A12",
        ),
        update("u-1", "investigating", t0 + timedelta(minutes=1), case),
    ]
    now = t0 + timedelta(minutes=10)
    result = updates_poll(connection_id=connection.pk, now=now)
    assert (result.polled, result.received, result.applied, result.skipped) == (
        True,
        2,
        2,
        0,
    )
    report.refresh_from_db()
    assert report.status == ReportStatus.IN_PROGRESS
    events = list(status_events(report))
    assert [(e.status, e.superseded) for e in events] == [
        (ReportStatus.INVESTIGATING, False),
        (ReportStatus.IN_PROGRESS, False),
    ]
    assert (events[1].note, events[1].external_status_code) == (
        "Arbetet har börjat.",
        "A12",
    )
    assert events[1].connection_id == connection.pk
    # The first window reaches back a day; the api_key goes as a query parameter.
    (query,) = server.update_queries
    assert query == {
        "start_date": w3c(now - timedelta(days=1)),
        "end_date": w3c(now),
        "api_key": API_KEY,
    }
    connection.refresh_from_db()
    assert connection.updates_cursor == t0 + timedelta(minutes=2) == result.cursor
    assert connection.updates_polled_at == now


def test_the_next_window_starts_at_the_cursor_less_the_overlap(server, polled, t0):
    connection, report, case = polled
    first = update("u-1", "in_progress", t0 + timedelta(minutes=2), case)
    server.updates = [first]
    now = t0 + timedelta(minutes=10)
    updates_poll(connection_id=connection.pk, now=now)
    cursor = t0 + timedelta(minutes=2)

    # Within the overlap the same update is answered again; a new one comes too.
    server.updates = [first, update("u-2", "fixed", now + timedelta(seconds=5), case)]
    later = now + INTERVAL
    result = updates_poll(connection_id=connection.pk, now=later)
    assert server.update_queries[1]["start_date"] == w3c(cursor - OVERLAP)
    assert server.update_queries[1]["end_date"] == w3c(later)
    assert (result.applied, result.repeated) == (1, 1)
    report.refresh_from_db()
    assert report.status == ReportStatus.FIXED
    assert status_events(report).count() == 2  # no second event for u-1
    connection.refresh_from_db()
    assert connection.updates_cursor == now + timedelta(seconds=5)


def test_an_older_update_arriving_late_is_kept_as_superseded(server, polled, t0):
    connection, report, case = polled
    server.updates = [update("u-2", "fixed", t0 + timedelta(minutes=5), case)]
    now = t0 + timedelta(minutes=10)
    updates_poll(connection_id=connection.pk, now=now)
    # The system stamped this one earlier but listed it only now (in the overlap).
    server.updates.append(
        update("u-1", "in_progress", t0 + timedelta(minutes=3), case, description="P")
    )
    result = updates_poll(connection_id=connection.pk, now=now + INTERVAL)
    assert result.applied == 1
    report.refresh_from_db()
    assert report.status == ReportStatus.FIXED
    late = ReportEvent.objects.get(report=report, note="P")
    assert late.superseded and late.status == ReportStatus.IN_PROGRESS
    connection.refresh_from_db()
    assert connection.updates_cursor == t0 + timedelta(minutes=5)  # not moved back


def test_refused_updates_are_skipped_and_the_rest_applied(server, polled, t0, caplog):
    connection, report, case = polled
    other = confirmed_report()
    elsewhere = delivery_of(other)
    elsewhere.connection = Connection.objects.get(body__slug="kommun-lund")
    elsewhere.state, elsewhere.external_id = "delivered", "LUND-7"
    elsewhere.save()
    server.updates = [
        update("u-1", "fixed", t0 + timedelta(minutes=1), "9999"),
        update("u-2", "fixed", t0 + timedelta(minutes=2), "LUND-7"),
        update("u-3", "sparkled", t0 + timedelta(minutes=3), case),
        update("u-4", "fixed", t0, case, updated_datetime="igår"),
        update("", "fixed", t0 + timedelta(minutes=4), case),
        update("u-6", "investigating", t0 + timedelta(minutes=6), case),
        update("u-9", "fixed", t0 + timedelta(minutes=9), "9999"),
    ]
    with caplog.at_level(logging.WARNING, logger="knutpunkt.polling"):
        result = updates_poll(connection_id=connection.pk, now=t0 + timedelta(hours=1))
    assert (result.received, result.applied, result.skipped) == (7, 1, 6)
    for reason in (
        "No report with case 9999",
        "Case LUND-7 was not sent through this connection",
        "Unknown status “sparkled”",
        "updated_datetime is not an ISO 8601",
        "no update_id",
    ):
        assert reason in caplog.text
    report.refresh_from_db()
    other.refresh_from_db()
    assert report.status == ReportStatus.INVESTIGATING
    assert other.status == ReportStatus.OPEN
    connection.refresh_from_db()
    # Past the refused ones too: they are not asked for again and again.
    assert connection.updates_cursor == t0 + timedelta(minutes=9)
    assert connection.last_error == ""


@pytest.mark.parametrize(
    "failure, reason",
    [
        ({"status": 500}, "HTTP 500"),
        ({"raw_response": (200, "application/json", b'[{"update_id": ')}, "malformed"),
        ({"raw_response": (200, "application/json", b'{"a": 1}')}, "expected a list"),
        ({"raw_response": (200, "application/json", b"[1, 2]")}, "not an object"),
        ({"raw_response": (200, "text/html", b"<title>Down</title>")}, "HTML page"),
    ],
)
def test_a_failed_poll_is_recorded_and_loses_nothing(
    server, polled, t0, failure, reason
):
    connection, report, case = polled
    server.updates = [update("u-1", "fixed", t0 + timedelta(minutes=1), case)]
    updates_poll(connection_id=connection.pk, now=t0 + timedelta(minutes=2))
    server.updates.append(update("u-2", "closed", t0 + timedelta(minutes=3), case))
    for name, value in failure.items():
        setattr(server, name, value)

    failed_at = t0 + timedelta(minutes=4)
    result = updates_poll(connection_id=connection.pk, now=failed_at)
    assert result.polled and reason in result.error
    connection.refresh_from_db()
    assert connection.last_error.startswith(ERROR_PREFIX)
    assert reason in connection.last_error
    assert connection.last_failure_at == failed_at
    assert connection.updates_cursor == t0 + timedelta(minutes=1)
    report.refresh_from_db()
    assert report.status == ReportStatus.FIXED

    # Tried again after the interval; then u-2 is applied and the error cleared.
    server.status, server.raw_response = None, None
    assert not updates_poll(connection_id=connection.pk, now=failed_at).polled
    result = updates_poll(connection_id=connection.pk, now=failed_at + INTERVAL)
    assert (result.polled, result.applied, result.error) == (True, 1, "")
    report.refresh_from_db()
    assert report.status == ReportStatus.CLOSED
    connection.refresh_from_db()
    assert connection.last_error == ""
    assert connection.updates_cursor == t0 + timedelta(minutes=3)


def test_repeated_failures_wait_longer_each_time(server, polled, t0):
    connection, _report, _case = polled
    server.status = 503
    now, pauses = t0, []
    for _ in range(8):
        assert updates_poll(connection_id=connection.pk, now=now).error
        connection.refresh_from_db()
        due = connection.updates_polled_at + INTERVAL
        second = timedelta(seconds=1)
        assert not updates_poll(connection_id=connection.pk, now=due - second).polled
        pauses.append(int((due - now).total_seconds() // 60))
        now = due
    assert pauses == [1, 2, 4, 8, 16, 30, 30, 30]
    assert len(server.update_queries) == 8


def test_a_delivery_error_is_not_cleared_by_a_successful_poll(server, polled, t0):
    connection, _report, _case = polled
    Connection.objects.filter(pk=connection.pk).update(last_error="POST: HTTP 500")
    assert updates_poll(connection_id=connection.pk, now=t0).error == ""
    connection.refresh_from_db()
    assert connection.last_error == "POST: HTTP 500"


def test_only_one_of_two_claims_polls(server, polled, t0):
    connection, _report, _case = polled
    assert updates_claim(connection_id=connection.pk, now=t0) is not None
    assert updates_claim(connection_id=connection.pk, now=t0) is None
    assert server.update_queries == []  # a claim alone asks nothing
    first = updates_poll(connection_id=connection.pk, now=t0 + INTERVAL)
    second = updates_poll(connection_id=connection.pk, now=t0 + INTERVAL)
    assert (first.polled, second.polled) == (True, False)
    assert len(server.update_queries) == 1


def test_a_stale_read_loses_the_claim(server, polled, t0, monkeypatch):
    """Two dispatchers read the same updates_polled_at; the other one's UPDATE
    lands between this one's read and its own UPDATE."""
    connection, _report, _case = polled

    real = polling._pollable

    def pollable_then_raced():
        found = real().filter(pk=connection.pk).first()
        Connection.objects.filter(pk=connection.pk).update(updates_polled_at=t0)

        class Stale:
            def filter(self, **_):
                return self

            def first(self):
                return found

        return Stale()

    monkeypatch.setattr(polling, "_pollable", pollable_then_raced)
    assert updates_poll(connection_id=connection.pk, now=t0).polled is False
    assert server.update_queries == []


def test_only_due_active_open311_connections_with_polling_are_polled(
    server, polled, t0
):
    connection, _report, _case = polled
    quiet = connect(ConnectionKind.OPEN311, endpoint=server.url, poll_updates=False)
    off = connect(
        ConnectionKind.OPEN311, endpoint=server.url, poll_updates=True, is_active=False
    )
    assert updates_poll_due(now=t0) == 1
    assert updates_poll_due(now=t0 + timedelta(seconds=30)) == 0
    assert updates_poll_due(now=t0 + INTERVAL) == 1
    assert len(server.update_queries) == 2
    for other in (quiet, off):
        other.refresh_from_db()
        assert other.updates_polled_at is None
    connection.refresh_from_db()
    assert connection.updates_polled_at == t0 + INTERVAL


def test_the_interval_comes_from_the_settings(server, polled, t0, settings):
    connection, _report, _case = polled
    settings.KNUTPUNKT_DELIVERY = {**settings.KNUTPUNKT_DELIVERY}
    settings.KNUTPUNKT_DELIVERY["poll_updates_seconds"] = 300
    assert updates_poll_due(now=t0) == 1
    assert updates_poll_due(now=t0 + INTERVAL) == 0
    assert updates_poll_due(now=t0 + timedelta(seconds=300)) == 1


def test_polling_never_raises(server, polled, t0, monkeypatch, caplog):
    connection, _report, _case = polled

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(polling, "signal_accept", broken)
    server.updates = [update("u-1", "fixed", t0, polled[2])]
    assert updates_poll_due(now=t0 + timedelta(minutes=1)) == 1
    connection.refresh_from_db()
    assert connection.last_error == f"{ERROR_PREFIX}Internal error: RuntimeError"
    assert connection.updates_cursor is None  # asked for again next time
    monkeypatch.setattr(polling, "updates_poll", broken)
    assert updates_poll_due(now=t0 + timedelta(hours=1)) == 0
    assert "bug" in caplog.text


def test_jurisdiction_and_missing_key(monkeypatch, t0):
    with Open311Server(api_key=API_KEY, jurisdiction_id="malmo.se") as server:
        connection = connect(
            ConnectionKind.OPEN311,
            endpoint=server.url,
            secret_env=SECRET_ENV,
            jurisdiction_id="malmo.se",
            poll_updates=True,
        )
        monkeypatch.setenv(SECRET_ENV, API_KEY)
        assert updates_poll(connection_id=connection.pk, now=t0).error == ""
        assert server.update_queries[0]["jurisdiction_id"] == "malmo.se"
        monkeypatch.setenv(SECRET_ENV, "fel")
        result = updates_poll(connection_id=connection.pk, now=t0 + INTERVAL)
        assert "HTTP 403" in result.error and "api_key" in result.error
        monkeypatch.delenv(SECRET_ENV)
        result = updates_poll(connection_id=connection.pk, now=t0 + 2 * INTERVAL)
        assert f"{SECRET_ENV} is not set" in result.error


def test_the_connector_reads_an_inclusive_window(server, polled, t0):
    connection, _report, case = polled
    start, end = t0.replace(microsecond=0), t0.replace(microsecond=0) + INTERVAL
    server.updates = [
        update(f"u-{n}", "fixed", at, case)
        for n, at in enumerate(
            [start - timedelta(seconds=1), start, end, end + timedelta(seconds=1)]
        )
    ]
    server.updates[1]["media_url"] = "https://example.org/a.jpg"
    server.updates[2]["service_request_id"] = 1001  # a number is taken as text
    found = Open311Connector(connection).updates(start, end)
    assert [u["update_id"] for u in found] == ["u-1", "u-2"]
    assert found[0]["media_url"] == "https://example.org/a.jpg"
    assert found[1]["service_request_id"] == "1001"


def test_the_connector_refuses_a_feed_that_is_not_one(server, polled, t0):
    connection, _report, _case = polled
    server.updates = [{"service_request_id": "1", "status": "open"}]
    with pytest.raises(DeliveryError, match="none of the 1 entries has an update_id"):
        Open311Connector(connection).updates(t0 - INTERVAL, t0 + INTERVAL)
    server.updates = [{"update_id": "u-1", "status": {"code": "open"}}]
    with pytest.raises(DeliveryError, match="status of update 1 is not a single"):
        Open311Connector(connection).updates(t0 - INTERVAL, t0 + INTERVAL)
