"""Every anonymous endpoint that costs is rate-limited: the place search, also
when it is reached through the form page without JavaScript (it calls the
geocoder), the category fragment, nearby reports, following, and the e-mailed
links. Past the limit: 429 with Retry-After, and nothing was done."""

import pytest
from django.core.cache import cache

from reports.choices import ReportStatus, TokenPurpose
from reports.models import EmailToken, Subscription
from reports.tokens import token_issue
from tests.support.casehub import confirmed_report, unconfirmed_report

pytestmark = pytest.mark.django_db

PLACES = [
    {"name": "Stortorget, Malmö, Skåne län, Sverige", "lat": 55.6059, "lon": 13.0007},
]


@pytest.fixture
def limits(settings):
    """Every scope at 2 requests an hour, counted afresh."""
    settings.KNUTPUNKT_RATE_LIMITS = dict.fromkeys(
        settings.KNUTPUNKT_RATE_LIMITS, (2, 3600)
    )
    cache.clear()
    yield
    cache.clear()


def test_the_form_pages_place_search_shares_the_geocode_budget(
    client, nominatim, limits
):
    # One search through the API, one through the form page: the budget is spent.
    assert client.get("/api/v1/geocode", {"q": "Stortorget"}).status_code == 200
    page = client.get("/rapportera/", {"q": "Stortorget"})
    assert page.status_code == 200 and "Stortorget, Malmö" in page.content.decode()
    assert len(nominatim.queries) == 2
    # The third search, through the form page: the form is still there, the
    # search says why it gave nothing, and the geocoder was not asked.
    refused = client.get("/rapportera/", {"q": "Stortorget"}, HTTP_ACCEPT="text/html")
    page = refused.content.decode()
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many place searches from your connection" in page
    assert 'id="place-search"' in page and "Stortorget, Malmö" not in page
    assert len(nominatim.queries) == 2
    # The API is out of budget too.
    api = client.get("/api/v1/geocode", {"q": "Stortorget"})
    assert api.status_code == 429 and api.json()["error"] == "rate_limited"
    assert len(nominatim.queries) == 2
    # The form page without a search is not counted.
    assert client.get("/rapportera/").status_code == 200


def test_the_category_fragment_and_nearby_reports_are_limited(client, limits):
    for path, params in [
        ("/rapportera/kategorier/", {"lat": "55.6059", "lon": "13.0007"}),
        (
            "/api/v1/reports/nearby",
            {"lat": "55.6059", "lon": "13.0007", "category": "gatubelysning"},
        ),
    ]:
        codes = [client.get(path, params).status_code for _ in range(3)]
        assert codes == [200, 200, 429], path


def test_a_browser_gets_a_429_page_in_its_language(client, limits, settings):
    settings.LANGUAGE_CODE = "sv"
    for _ in range(2):
        client.get("/rapportera/kategorier/", {"lat": "55.6", "lon": "13.0"})
    refused = client.get(
        "/rapportera/kategorier/",
        {"lat": "55.6", "lon": "13.0"},
        HTTP_ACCEPT="text/html",
    )
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("text/html")
    assert "Retry-After" in refused
    assert "För många förfrågningar" in refused.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/bekrafta/not-a-token/",
        "/folj/bekrafta/not-a-token/",
        "/mina-sidor/lank/not-a-token/",
    ],
)
def test_opening_emailed_links_is_limited(client, limits, path):
    codes = [client.get(path).status_code for _ in range(3)]
    assert codes == [410, 410, 429]


def test_following_is_limited_and_the_refused_request_changes_nothing(client, limits):
    report = confirmed_report()
    path = f"/rapporter/{report.pk}/folj/"
    for n in range(2):
        client.post(path, {"email": f"f{n}@example.org"})
    before = Subscription.objects.count()
    refused = client.post(path, {"email": "f9@example.org"})
    assert refused.status_code == 429
    assert Subscription.objects.count() == before
    assert not Subscription.objects.filter(email="f9@example.org").exists()


def test_a_confirmation_past_the_limit_confirms_nothing(client, limits):
    report = unconfirmed_report()
    raw = token_issue(purpose=TokenPurpose.CONFIRM_REPORT, report=report)
    for _ in range(2):
        client.get("/bekrafta/not-a-token/")
    refused = client.post(f"/bekrafta/{raw}/")
    assert refused.status_code == 429
    report.refresh_from_db()
    assert report.status == ReportStatus.UNCONFIRMED
    assert EmailToken.objects.get(report=report).used_at is None
