"""Live updates over websockets, through the real ASGI application and channel
layer of the profile under test (in-memory or Redis)."""

import os
import re

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection

from casehub.choices import DeliveryState
from config.asgi import application
from municipalities.choices import StaffRole
from reports.consumers import CLOSE_FORBIDDEN
from reports.models import Report
from reports.services import report_transition
from tests.support.casehub import (
    LUND,
    confirmed_report,
    deliver_due,
    unconfirmed_report,
)
from tests.support.people import case_handler, staff_user

pytestmark = [
    pytest.mark.django_db,
    # The sockets' scenarios are bounded, not their setup: for the first
    # database test of a run that loads the demo data (minutes on a busy machine).
    pytest.mark.timeout(60, func_only=True),
]

# In-process sockets share the test's database transaction, which Channels'
# database_sync_to_async closes on PostgreSQL; there the same behaviour is tested
# with real server processes (tests/test_live_processes.py).
in_process_sockets = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="in-process sockets need the embedded profile's shared test database",
)

HEADERS = [(b"host", b"localhost"), (b"origin", b"http://localhost")]


def watch(report_id: int) -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application, f"/ws/reports/{report_id}/", headers=HEADERS
    )


@in_process_sockets
def test_the_report_page_hears_that_the_report_was_sent(
    django_capture_on_commit_callbacks,
):
    report = confirmed_report()

    def deliver():
        with django_capture_on_commit_callbacks(execute=True):
            return deliver_due()

    async def scenario():
        watcher = watch(report.pk)
        connected, _ = await watcher.connect()
        assert connected
        assert await sync_to_async(deliver)() == [DeliveryState.DELIVERED]
        frame = await watcher.receive_json_from(timeout=5)
        await watcher.disconnect()
        return frame

    # The test's own thread (and its database transaction) serves the consumer's
    # database calls: async_to_sync hands thread-sensitive work back to it.
    frame = async_to_sync(scenario)()
    assert frame["kind"] == "sent"
    assert frame["data"] == {"body": "Malmö kommun", "reference": f"KP-{report.pk}"}
    assert "Skickad till Malmö kommun" in frame["html"]["sv"]
    assert f"Sent to Malmö kommun, reference KP-{report.pk}" in frame["html"]["en"]


def test_the_report_page_is_never_older_than_its_timeline(client):
    """The report is sent while its page is being read: whatever the timeline
    shows, the "sent to" line shows too, so that the page's socket, which asks
    for the events after the newest on the timeline, misses nothing."""
    report = confirmed_report()
    injected = []

    def sent_meanwhile(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not injected and "reports_reportevent" in sql and sql.startswith("SELECT"):
            injected.append(True)  # before anything else the page reads
            assert deliver_due() == [DeliveryState.DELIVERED]
        return result

    with connection.execute_wrapper(sent_meanwhile):
        page = client.get(f"/rapporter/{report.pk}/").content.decode()
    assert injected
    timeline = page[page.index('id="timeline"') :]
    sent_line = re.search(r'id="report-sent"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert ("event-sent" in timeline) == ("KP-" in sent_line)
    # The page still shows the report it found, and the sent event came after.
    newest = max(int(n) for n in re.findall(r'data-event-id="(\d+)"', timeline))
    assert newest < report.events.get(kind="sent").pk


def test_an_unconfirmed_report_cannot_be_watched(smtp_server):
    report = unconfirmed_report()

    async def scenario():
        connected, code = await watch(report.pk).connect()
        return connected, code

    assert async_to_sync(scenario)() == (False, CLOSE_FORBIDDEN)


@in_process_sockets
def test_a_report_hidden_while_watched_is_told_no_more(
    django_capture_on_commit_callbacks,
):
    report = confirmed_report()

    def hide_and_change():
        Report.objects.filter(pk=report.pk).update(is_hidden=True)
        with django_capture_on_commit_callbacks(execute=True):
            report_transition(
                actor=case_handler(report.municipality.code),
                report_id=report.pk,
                status="fixed",
                note="Klart",
            )

    async def scenario():
        watcher = watch(report.pk)
        connected, _ = await watcher.connect()
        assert connected
        await sync_to_async(hide_and_change)()
        silent = await watcher.receive_nothing(timeout=0.5)
        await watcher.disconnect()
        return silent

    assert async_to_sync(scenario)() is True


@in_process_sockets
def test_staff_may_watch_their_own_kommuns_reports_only(client):
    malmo_report, lund_report = confirmed_report(), confirmed_report(point=LUND)
    user = staff_user("malmo-staff", "1280", StaffRole.CASE_HANDLER)
    client.force_login(user)
    cookie = (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())

    async def connect(report_id):
        socket = WebsocketCommunicator(
            application, f"/ws/staff/reports/{report_id}/", headers=[*HEADERS, cookie]
        )
        result = await socket.connect()
        await socket.disconnect()
        return result

    assert async_to_sync(connect)(malmo_report.pk)[0] is True
    assert async_to_sync(connect)(lund_report.pk) == (False, CLOSE_FORBIDDEN)
