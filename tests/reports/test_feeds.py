"""Atom (RFC 4287) and RSS 2.0 feeds of a kommun's new reports, an area's and
one report's updates: valid by the specifications' required elements, links on
configured addresses, nothing personal; a 404 for an unknown kommun or report
and a 400 naming the parameter at fault."""

import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from django.test import Client
from django.utils import translation

from municipalities.choices import StaffRole
from reports.choices import ReportStatus
from reports.models import Report
from tests.support.casehub import LUND, MALMO, confirmed_report, unconfirmed_report
from tests.support.factories import category
from tests.support.people import staff_user
from workspace.services import report_status_change

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def _atom(answer) -> ET.Element:
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(answer.content)
    assert feed.tag == f"{ATOM}feed"
    # RFC 4287 4.1.1: id, title, updated; an author for the feed (or each
    # entry); a self link is recommended and given.
    for name in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{name}") is not None, name
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    datetime.fromisoformat(feed.find(f"{ATOM}updated").text)
    for entry in feed.findall(f"{ATOM}entry"):
        # 4.1.2: id, title, updated, and a link (no content).
        for name in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{name}").text, name
        datetime.fromisoformat(entry.find(f"{ATOM}updated").text)
        assert (
            entry.find(f"{ATOM}link[@rel='alternate']")
            .get("href")
            .startswith("http://")
        )
    ids = [e.find(f"{ATOM}id").text for e in feed.findall(f"{ATOM}entry")]
    assert len(ids) == len(set(ids))
    return feed


def _rss(answer) -> ET.Element:
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/rss+xml")
    rss = ET.fromstring(answer.content)
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    (channel,) = rss.findall("channel")
    # RSS 2.0: a channel has title, link and description; an item a title or
    # a description.
    for name in ("title", "link", "description"):
        assert channel.find(name) is not None and channel.find(name).text, name
    for item in channel.findall("item"):
        assert item.find("title") is not None or item.find("description") is not None
        assert item.find("link").text.startswith("http://")
        assert item.find("guid") is not None
    return channel


def test_a_kommuns_feeds_list_its_public_reports_only():
    lamp = confirmed_report(title="Släckt lampa")
    unconfirmed_report(title="Ej bekräftad")
    confirmed_report(point=LUND, title="Lampa i Lund")
    hidden = confirmed_report(title="Dold")
    Report.objects.filter(pk=hidden.pk).update(is_hidden=True)
    client = Client()
    feed = _atom(client.get("/flode/kommun/1280.atom"))
    titles = [e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")]
    assert titles == ["Släckt lampa"]
    (link,) = feed.findall(f"{ATOM}entry/{ATOM}link")
    # On Malmö's configured site, whatever host asked.
    assert link.get("href") == f"http://malmo.localhost/rapporter/{lamp.pk}/"
    channel = _rss(client.get("/flode/kommun/1280.rss"))
    assert [i.find("title").text for i in channel.findall("item")] == ["Släckt lampa"]
    body = client.get("/flode/kommun/1280.rss").content.decode()
    # Nothing personal: the reporter's name, address and phone are not there.
    for personal in ("Anna", "anna@example.org", "040-123456"):
        assert personal not in body


def test_a_category_of_a_kommun():
    confirmed_report(title="Släckt lampa")
    confirmed_report(title="Klotter på muren", category=category("klotter"))
    feed = _atom(Client().get("/flode/kommun/1280.atom?kategori=klotter"))
    titles = [e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")]
    assert titles == ["Klotter på muren"]


def test_an_unknown_kommun_is_404_and_an_unknown_category_400(client):
    assert client.get("/flode/kommun/9999.atom").status_code == 404
    assert client.get("/flode/kommun/malmo.atom").status_code == 404
    with translation.override("en"):
        answer = client.get("/flode/kommun/1280.atom?kategori=nope")
    assert answer.status_code == 400
    assert answer.content.decode() == "kategori: Unknown category.\n"


def test_an_areas_feed_takes_its_point_and_radius_from_the_query(client):
    confirmed_report(title="Nära")
    confirmed_report(point=LUND, title="Långt bort")
    query = f"lat={MALMO[0]}&lon={MALMO[1]}&radie=1000"
    feed = _atom(client.get(f"/flode/omrade.atom?{query}"))
    titles = [e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")]
    assert titles == ["Nära"]
    channel = _rss(client.get(f"/flode/omrade.rss?{query}"))
    assert [i.find("title").text for i in channel.findall("item")] == ["Nära"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("lat=55.6&lon=13.0&radie=0", "radie: Choose a radius from 100 m to 20 km."),
        (
            "lat=55.6&lon=13.0&radie=500000",
            "radie: Choose a radius from 100 m to 20 km.",
        ),
        ("lat=55.6&lon=13.0", "radie: Choose a radius from 100 m to 20 km."),
        ("lat=95&lon=13.0&radie=500", "lat: Must be between -90 and 90."),
        ("lon=13.0&radie=500", "lat: This coordinate is required."),
    ],
)
def test_bad_area_parameters_are_400_naming_them(client, query, message):
    with translation.override("en"):
        answer = client.get(f"/flode/omrade.atom?{query}")
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("text/plain")
    assert message in answer.content.decode()


def test_a_reports_feed_has_its_public_updates(client):
    report = confirmed_report(title="Släckt lampa")
    handler = staff_user("gata", "1280", StaffRole.CASE_HANDLER)
    report_status_change(
        actor=handler,
        report_id=report.pk,
        status=ReportStatus.IN_PROGRESS,
        reply="Vi byter lampan i veckan.",
    )
    feed = _atom(client.get(f"/flode/rapporter/{report.pk}.atom"))
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert "Vi byter lampan" in ET.tostring(entries[0], encoding="unicode")
    _rss(client.get(f"/flode/rapporter/{report.pk}.rss"))
    waiting = unconfirmed_report()
    assert client.get(f"/flode/rapporter/{waiting.pk}.atom").status_code == 404
    assert client.get("/flode/rapporter/999999.atom").status_code == 404


def test_the_feeds_are_linked_from_the_map_the_kommun_site_and_the_report(client):
    report = confirmed_report()
    for path in ("/rapporter/", "/"):
        page = client.get(path, HTTP_HOST="malmo.localhost").content.decode()
        assert (
            '<link rel="alternate" type="application/atom+xml"' in page
            and 'href="/flode/kommun/1280.atom"' in page
        ), path
        assert 'href="/flode/kommun/1280.rss"' in page, path
    page = client.get(f"/rapporter/{report.pk}/").content.decode()
    assert f'href="/flode/rapporter/{report.pk}.atom"' in page
