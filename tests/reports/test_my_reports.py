""" "Mina sidor" for signed-in reporters and by magic link, and the live sockets'
catch-up after a reconnect."""

import os
import re

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from casehub.services import Signal, signal_accept
from config.asgi import application
from reports.choices import ReportStatus
from reports.models import Report
from reports.services import report_transition
from tests.support.casehub import LUND, confirmed_report, connect, reporter_user
from tests.support.people import case_handler

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


def headers(client=None):
    found = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
    if client is not None and "sessionid" in client.cookies:
        found.append(
            (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())
        )
    return found


def test_a_signed_in_reporter_sees_all_their_reports_across_kommuner(client):
    mine = [
        confirmed_report(title="Malmö-lampan"),
        confirmed_report(point=LUND, title="Lund-lampan"),
    ]
    other = get_user_model().objects.create(username="someone-else")
    Report.objects.create(
        **{
            f.name: getattr(mine[0], f.name)
            for f in Report._meta.concrete_fields
            if f.name not in ("id", "reporter", "title")
        },
        reporter=other,
        title="Någon annans",
    )
    client.force_login(reporter_user())
    page = client.get("/mina-sidor/").content.decode()
    assert "Malmö-lampan" in page and "Lund-lampan" in page
    assert "Någon annans" not in page
    assert 'data-live="/ws/mina-sidor/"' in page


def test_without_an_account_a_magic_link_opens_my_reports(
    client, smtp_server, django_capture_on_commit_callbacks
):
    confirmed_report(title="Min lampa")
    page = client.get("/mina-sidor/").content.decode()
    assert "Send me a link" in page
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/mina-sidor/", {"email": "Anna@Example.org"})
        unknown = client.post("/mina-sidor/", {"email": "nobody@example.org"})
    assert "a link to them is on its way" in answer.content.decode()
    # The same answer: no telling which addresses have reports.
    assert unknown.status_code == answer.status_code == 200
    assert "a link to them is on its way" in unknown.content.decode()
    assert smtp_server.bodies_to("nobody@example.org") == []
    (mail,) = smtp_server.bodies_to("anna@example.org")
    link = re.search(r"http://\S+/mina-sidor/lank/\S+/", mail).group(0)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    other = client_class_fresh()
    assert other.get("/mina-sidor/").content.decode().count("Min lampa") == 0
    followed = other.get(path, follow=True).content.decode()
    assert "Min lampa" in followed
    assert other.get(path[:-5] + "xxxx/").status_code == 410


def client_class_fresh():
    return Client()


@in_process_sockets
def test_my_reports_socket_hears_each_of_my_reports(
    client, django_capture_on_commit_callbacks
):
    first = confirmed_report()
    second = confirmed_report(point=LUND)
    client.force_login(reporter_user())

    def change(report):
        with django_capture_on_commit_callbacks(execute=True):
            report_transition(
                actor=case_handler(report.municipality.code),
                report_id=report.pk,
                status=ReportStatus.IN_PROGRESS,
                note="På gång",
            )

    async def scenario():

        socket = WebsocketCommunicator(
            application, "/ws/mina-sidor/", headers=headers(client)
        )
        connected, _ = await socket.connect()
        assert connected
        await sync_to_async(change)(second)
        frame = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return frame

    frame = async_to_sync(scenario)()
    assert (frame["report"], frame["status"], frame["changes_status"]) == (
        second.pk,
        "in_progress",
        True,
    )
    assert first.pk != second.pk


@in_process_sockets
def test_my_reports_page_asks_for_what_changed_after_it_was_rendered(
    client, django_capture_on_commit_callbacks
):
    report = confirmed_report()
    client.force_login(reporter_user())
    page = client.get("/mina-sidor/").content.decode()
    after = int(re.search(r'data-after="(\d+)"', page).group(1))
    assert after == report.events.filter(is_public=True).latest("pk").pk
    # A change between rendering the page and opening its socket.
    with django_capture_on_commit_callbacks(execute=True):
        report_transition(
            actor=case_handler(report.municipality.code),
            report_id=report.pk,
            status=ReportStatus.IN_PROGRESS,
            note="På gång",
        )

    async def scenario():
        socket = WebsocketCommunicator(
            application, f"/ws/mina-sidor/?after={after}", headers=headers(client)
        )
        connected, _ = await socket.connect()
        assert connected
        frame = await socket.receive_json_from(timeout=5)
        assert await socket.receive_nothing(timeout=0.2)
        await socket.disconnect()
        return frame

    frame = async_to_sync(scenario)()
    assert (frame["report"], frame["status"]) == (report.pk, "in_progress")
    assert frame["id"] > after


def test_my_reports_socket_refuses_strangers():
    async def scenario():
        return await WebsocketCommunicator(
            application, "/ws/mina-sidor/", headers=headers()
        ).connect()

    assert async_to_sync(scenario)() == (False, 4403)


def test_a_reconnecting_page_gets_the_events_it_missed():
    report = confirmed_report()
    seen = report.events.get()  # "reported"

    connection = connect("webhook", endpoint="http://127.0.0.1:9/")
    delivery = report.deliveries.get()
    delivery.connection = connection
    delivery.save()
    for n, status in enumerate(["investigating", "in_progress"]):
        signal_accept(
            signal=Signal(
                connection_id=connection.pk,
                message_id=f"m{n}",
                report_id=report.pk,
                status=ReportStatus(status),
                note=f"steg {n}",
            )
        )

    async def scenario():
        socket = WebsocketCommunicator(
            application, f"/ws/reports/{report.pk}/?after={seen.pk}", headers=headers()
        )
        connected, _ = await socket.connect()
        assert connected
        frames = [await socket.receive_json_from(timeout=5) for _ in range(2)]
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    assert [f["status"] for f in frames] == ["investigating", "in_progress"]
    assert all(f["id"] > seen.pk for f in frames)


@pytest.mark.parametrize(
    ("host", "root"),
    [
        ("evil.example", "http://localhost/"),  # no site of ours: the national one
        ("malmo.localhost", "http://malmo.localhost/"),
    ],
)
def test_the_emailed_link_goes_to_our_site_whatever_the_host_header_says(
    client, smtp_server, django_capture_on_commit_callbacks, host, root
):
    confirmed_report(title="Min lampa")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/mina-sidor/", {"email": "anna@example.org"}, HTTP_HOST=host)
    (mail,) = smtp_server.bodies_to("anna@example.org")
    links = re.findall(r"https?://\S+", mail)
    assert links and all(link.startswith(root) for link in links), links
    assert "evil.example" not in mail
