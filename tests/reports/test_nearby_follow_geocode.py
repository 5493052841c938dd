import html
import re

import pytest

from reports.choices import ReportStatus
from reports.models import Report, Subscription
from tests.support import factories
from tests.support.people import citizen

# Stortorget, Malmö; 0.001° of latitude is about 111 m.
LAT, LON = 55.6059, 13.0007


def make_report(lat=LAT, lon=LON, category="gatubelysning", status="open", **extra):
    return factories.report(
        point=(lat, lon),
        category_slug=category,
        status=status,
        title=extra.pop("title", "Släckt lykta"),
        description="Släckt.",
        name="Bo",
        email="bo@example.org",
        confirmed=status != "unconfirmed",
        **extra,
    )


@pytest.mark.django_db
def test_nearby_lists_open_reports_within_250_m_in_the_same_category(client):
    near = make_report(lat=LAT + 0.0018)  # ~200 m north
    make_report(lat=LAT + 0.0027)  # ~300 m: too far
    make_report(lat=LAT + 0.0005, category="klotter")  # other category
    make_report(lat=LAT + 0.0005, status="unconfirmed")  # not public
    make_report(lat=LAT + 0.0005, status="fixed")  # closed
    make_report(lat=LAT + 0.0005, is_hidden=True)  # hidden
    response = client.get(
        "/api/v1/reports/nearby", {"lat": LAT, "lon": LON, "category": "gatubelysning"}
    )
    assert response.status_code == 200
    (found,) = response.json()["reports"]
    assert found["id"] == near.pk
    assert 190 <= found["distance_m"] <= 210
    assert "bo@example.org" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"lat": "x", "lon": LON, "category": "gatubelysning"}, "invalid_point"),
        ({"lat": LAT, "lon": LON, "category": "nope"}, "invalid_category"),
    ],
)
def test_nearby_rejects_bad_input(client, params, error):
    response = client.get("/api/v1/reports/nearby", params)
    assert response.status_code == 400
    assert response.json()["error"] == error


@pytest.mark.django_db
def test_following_anonymously_needs_the_emailed_link(
    client, smtp_server, django_capture_on_commit_callbacks
):
    report = make_report()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/rapporter/{report.pk}/folj/", {"email": "Cia@Example.org"}
        )
    assert response.status_code == 302
    subscription = Subscription.objects.get(report=report, email="cia@example.org")
    assert subscription.confirmed_at is None
    (body,) = smtp_server.bodies_to("cia@example.org")
    path = re.search(r"https?://[^/\s]+(/(?:sv/)?folj/bekrafta/\S+/)", body).group(1)
    assert client.post(path).status_code == 302
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None
    again = client.post(path)
    assert again.status_code == 302 and again["Location"] == report.get_absolute_url()


@pytest.mark.django_db
def test_a_logged_in_user_follows_at_once(client, smtp_server):
    report = make_report()
    user = citizen()
    client.force_login(user)
    client.post(f"/rapporter/{report.pk}/folj/", {"email": user.email})
    assert Subscription.objects.get(report=report, user=user).confirmed_at
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_a_closed_or_unconfirmed_report_cannot_be_followed(client):
    closed = make_report(status=ReportStatus.FIXED)
    client.post(f"/rapporter/{closed.pk}/folj/", {"email": "d@example.org"})
    assert not Subscription.objects.filter(report=closed).exists()
    unconfirmed = make_report(status=ReportStatus.UNCONFIRMED)
    response = client.post(
        f"/rapporter/{unconfirmed.pk}/folj/", {"email": "d@example.org"}
    )
    assert response.status_code == 404


PLACES = [
    {"name": "Stortorget, Malmö, Skåne län, Sverige", "lat": 55.6059, "lon": 13.0007},
    {"name": "Stortorget, Stockholm, Sverige", "lat": 59.3250, "lon": 18.0707},
]


@pytest.mark.django_db
def test_place_search_asks_the_geocoder_for_sweden_only(client, nominatim):
    response = client.get("/api/v1/geocode", {"q": "Stortorget"})
    assert response.status_code == 200
    places = response.json()["places"]
    assert [p["label"] for p in places] == [p["name"] for p in PLACES]
    assert places[0]["lat"] == 55.6059
    (query,) = nominatim.queries
    assert query["path"] == "/search" and query["countrycodes"] == "se"


@pytest.mark.django_db
@pytest.mark.parametrize(("delay", "status"), [(0.0, 500), (3.0, 200)])
def test_place_search_says_clearly_when_the_geocoder_fails_or_is_slow(
    client, nominatim, delay, status
):
    nominatim.delay, nominatim.status = delay, status
    response = client.get("/api/v1/geocode", {"q": "Stortorget"})
    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"]


@pytest.mark.django_db
def test_place_search_without_javascript_carries_the_place_to_the_sent_report(
    client, nominatim
):
    page = client.get("/rapportera/", {"q": "Stortorget"}).content.decode()
    link = re.search(r'<a href="(\?lat=[^"]+)">Stortorget, Malmö', page).group(1)
    assert html.unescape(link) == (
        "?lat=55.605900&lon=13.000700"
        "&place=Stortorget%2C%20Malm%C3%B6%2C%20Sk%C3%A5ne%20l%C3%A4n%2C%20Sverige"
    )
    chosen = client.get("/rapportera/" + html.unescape(link)).content.decode()
    # The form itself carries the place on, and the page says where it is.
    hidden = dict(
        re.findall(
            r'<input type="hidden" name="(lat|lon|place)" value="([^"]*)"', chosen
        )
    )
    assert hidden == {
        "lat": "55.605900",
        "lon": "13.000700",
        "place": "Stortorget, Malmö, Skåne län, Sverige",
    }
    assert (
        "Place chosen: Stortorget, Malmö, Skåne län, Sverige, in Malmö kommun."
        in chosen
    )
    assert 'value="gatubelysning"' in chosen
    sent = client.post(
        "/rapportera/",
        {
            **hidden,
            "category": "gatubelysning",
            "title": "Släckt gatlykta",
            "description": "Lyktan vid Stortorget är släckt.",
            "name": "Sara Svensson",
            "email": "sara@example.org",
        },
    )
    assert sent.status_code == 302 and sent["Location"] == "/rapportera/tack/"
    report = Report.objects.get()
    assert (report.lat, report.lon) == (55.6059, 13.0007)
    assert report.municipality.code == "1280"


@pytest.mark.django_db
def test_place_search_without_a_geocoder_still_offers_the_form(client, settings):
    settings.KNUTPUNKT_GEOCODER = {
        "domain": "127.0.0.1:9",  # discard port: nothing listens
        "scheme": "http",
        "user_agent": "knutpunkt-tests",
        "timeout": 2.0,
    }
    page = client.get("/rapportera/", {"q": "Stortorget"})
    assert page.status_code == 200
    assert "Place search is unavailable right now" in page.content.decode()


@pytest.mark.django_db
def test_without_place_search_the_place_is_given_by_kommun_and_address(
    client, settings
):
    """No JavaScript and no geocoder: the page offers the place another way
    (the kommun and an address, or coordinates) instead of a map it cannot
    show, and the typed address reaches the report."""
    settings.KNUTPUNKT_GEOCODER = {
        "domain": "127.0.0.1:9",
        "scheme": "http",
        "user_agent": "knutpunkt-tests",
        "timeout": 2.0,
    }
    page = client.get("/rapportera/", {"q": "Stortorget"}).content.decode()
    assert "Give the place another way below." in page
    assert 'id="place-fallback-heading"' in page
    assert 'name="kommun"' in page and 'name="adress"' in page
    assert re.search(r'<div id="map" class="map" role="application" hidden', page)
    assert 'class="place-by-coordinates"' in page and 'name="lat"' in page

    # Bad input: said at the field, what was typed kept, no place chosen.
    refused = client.get(
        "/rapportera/", {"kommun": "9999", "adress": "Storgatan 1"}
    ).content.decode()
    assert "Choose a kommun from the list." in refused
    assert 'value="Storgatan 1"' in refused and 'value="gatubelysning"' not in refused
    empty = client.get(
        "/rapportera/", {"kommun": "1280", "adress": " "}
    ).content.decode()
    assert 'id="id_adress_error">This field is required.' in empty

    chosen = client.get(
        "/rapportera/", {"kommun": "1280", "adress": "Amiralsgatan 20"}
    ).content.decode()
    hidden = dict(
        re.findall(
            r'<input type="hidden" name="(lat|lon|place|address)" value="([^"]*)"',
            chosen,
        )
    )
    assert hidden["address"] == "Amiralsgatan 20"
    assert "in Malmö kommun" in chosen and 'value="gatubelysning"' in chosen
    sent = client.post(
        "/rapportera/",
        {
            **hidden,
            "category": "gatubelysning",
            "title": "Släckt gatlykta",
            "description": "Lyktan utanför porten är släckt.",
            "name": "Sara Svensson",
            "email": "sara@example.org",
        },
    )
    assert sent.status_code == 302
    report = Report.objects.get()
    assert report.municipality.code == "1280"
    assert report.address == "Amiralsgatan 20"
