""" "Mina sidor" for signed-in reporters and by magic link, and the live sockets'
catch-up after a reconnect."""

import base64
import os
import re
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from casehub.services import Signal, signal_accept
from config.asgi import application
from reports.choices import ReportStatus
from reports.models import MyReportsLink, Report
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


def test_my_reports_lists_my_confirmed_alerts_each_with_its_own_page(client):
    """Mina sidor lists the alerts of the signed-in citizen (confirmed ones,
    never another's), each linking to its own page, where it is changed or
    ended."""
    from reports.choices import AlertKind
    from reports.models import Alert

    me, other = reporter_user(), get_user_model().objects.create(username="granne")
    mine = confirmed_report(title="Min lampa")
    kommun = mine.municipality

    def alert(user, **fields):
        return Alert.objects.create(
            email=f"{user.username}@example.org", user=user, municipality=kommun,
            **fields,
        )  # fmt: skip

    watching = alert(
        me, kind=AlertKind.AREA, lat=55.6059, lon=13.0007, radius_m=500,
        confirmed_at=timezone.now(),
    )  # fmt: skip
    alert(me, kind=AlertKind.CATEGORY, category=mine.category)  # unconfirmed
    alert(other, kind=AlertKind.KOMMUN, confirmed_at=timezone.now())
    client.force_login(me)
    page = client.get("/mina-sidor/").content.decode()
    assert "within 500 m of 55.60590, 13.00070" in page
    assert mine.category.name not in page.split("My alerts")[1]
    assert f"in {kommun.name}" not in page
    (manage,) = re.findall(r'href="(/bevakning/[^"]+/)"', page)
    assert client.get(manage).status_code == 200
    assert Alert.objects.get(pk=watching.pk).confirmed_at  # listing changed nothing
    client.logout()
    other_client = Client()
    other_client.force_login(other)
    theirs = other_client.get("/mina-sidor/").content.decode()
    assert "within 500 m" not in theirs and f"in {kommun.name}" in theirs


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
    # Opening the link asks first (mail scanners fetch links); nothing is used.
    asked = other.get(path)
    assert asked.status_code == 200 and "Open my reports" in asked.content.decode()
    assert "Min lampa" not in asked.content.decode()
    followed = other.post(path, follow=True).content.decode()
    assert "Min lampa" in followed
    assert other.get(path[:-5] + "xxxx/").status_code == 410


def _link_path(smtp_server, email):
    (mail,) = smtp_server.bodies_to(email)
    link = re.search(r"http://\S+/mina-sidor/lank/(\S+)/", mail)
    return link.group(1), "/" + link.group(0).split("://", 1)[1].split("/", 1)[1]


def test_the_link_carries_no_address_and_works_once(
    client, smtp_server, django_capture_on_commit_callbacks
):
    confirmed_report(title="Min lampa")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/mina-sidor/", {"email": "anna@example.org"})
    token, path = _link_path(smtp_server, "anna@example.org")
    # An opaque random token: no address, readable or encoded, and only its
    # hash is stored.
    assert "anna" not in token and "example" not in token
    for part in token.replace("-", "+").replace("_", "/").split(":"):
        try:
            decoded = base64.b64decode(part + "==")
        except ValueError:
            continue
        assert b"anna" not in decoded
    (stored,) = MyReportsLink.objects.all()
    assert stored.token_hash != token and token not in stored.token_hash
    first = Client()
    assert first.post(path, follow=True).content.decode().count("Min lampa") == 1
    stored.refresh_from_db()
    assert stored.used_at is not None
    # A second opening, in any browser: the link is used; a form asks for a new one.
    second = Client()
    for answer in (second.get(path), second.post(path)):
        page = answer.content.decode()
        assert answer.status_code == 410
        assert "Min lampa" not in page
        assert "Send me a link" in page
    assert "already been used" in page
    assert second.get("/mina-sidor/").content.decode().count("Min lampa") == 0


def test_the_link_expires_after_the_configured_minutes(
    client, smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.KNUTPUNKT_MY_REPORTS_LINK_TTL_MINUTES = 30
    confirmed_report(title="Min lampa")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/mina-sidor/", {"email": "anna@example.org"})
    _token, path = _link_path(smtp_server, "anna@example.org")
    (stored,) = MyReportsLink.objects.all()
    lifetime = stored.expires_at - stored.created_at
    assert timedelta(minutes=29) < lifetime <= timedelta(minutes=30)
    assert "within 30 minutes" in smtp_server.bodies_to("anna@example.org")[0]
    MyReportsLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = Client().post(path)
    assert answer.status_code == 410
    assert "has expired" in answer.content.decode()
    stored.refresh_from_db()
    assert stored.used_at is None


def test_link_requests_are_limited_per_address_and_per_email(
    client, smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "my_reports_link": (4, 3600),
        "my_reports_link_email": (2, 3600),
    }
    cache.clear()
    confirmed_report(title="Min lampa")
    answers = []
    with django_capture_on_commit_callbacks(execute=True):
        # Three requests for one address, each from another client address.
        for n in range(3):
            answers.append(
                client.post(
                    "/mina-sidor/",
                    {"email": "anna@example.org"},
                    REMOTE_ADDR=f"198.51.100.{n + 1}",
                )
            )
    # The answer is the same each time; the third sends nothing.
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all("a link to them is on its way" in a.content.decode() for a in answers)
    assert len(smtp_server.bodies_to("anna@example.org")) == 2
    # Per client address: the fifth request from one address is refused.
    with django_capture_on_commit_callbacks(execute=True):
        codes = [
            client.post(
                "/mina-sidor/",
                {"email": f"x{n}@example.org"},
                REMOTE_ADDR="203.0.113.9",
                HTTP_ACCEPT="text/html",
            )
            for n in range(5)
        ]
    assert [c.status_code for c in codes] == [200, 200, 200, 200, 429]
    refused = codes[-1]
    assert int(refused["Retry-After"]) > 0
    assert refused["Content-Type"].startswith("text/html")
    assert "Too many requests" in refused.content.decode()


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
