import json
import math
import random
import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from municipalities.models import Municipality, Route
from reports import map as reports_map
from reports.choices import CLOSED_STATUSES, OPEN_STATUSES, ReportStatus
from reports.models import LatBand, Report
from reports.services import Reporter, report_submit
from reports.views import REPORTS_PER_PAGE
from tests.support import factories
from tests.support.people import citizen

URL = "/api/v1/reports"
MALMO = (55.6059, 13.0007)  # Stortorget
EMAIL = "anna.hemlig@example.org"
PHONE = "070-987 65 43"
NAME = "Anna Hemligsson"
SWEDEN = "10.5,55.0,24.2,69.1"


def box(lat: float, lon: float, km: float = 1.0) -> str:
    """A ``west,south,east,north`` box ``km`` on a side around a point."""
    dlat = km / 2 / 111.2
    dlon = km / 2 / (111.2 * math.cos(math.radians(lat)))
    return f"{lon - dlon},{lat - dlat},{lon + dlon},{lat + dlat}"


@pytest.fixture(autouse=True)
def _generous_rate_limit(settings):
    # The limit is not under test here, except where a test sets its own.
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "reports_map": (100_000, 60),
    }


@pytest.fixture
def malmo():
    return Municipality.objects.get(code="1280")


@pytest.fixture
def routes(malmo):
    """Two of Malmö's categories with the body that handles each."""
    return list(
        Route.objects.filter(municipality=malmo)
        .select_related("category", "body")
        .order_by("category__sort_order")[:2]
    )


@pytest.fixture
def make_report(malmo, routes):
    def make(lat=MALMO[0], lon=MALMO[1], *, route=0, save=True, **fields):
        route = routes[route]
        values = {
            "lat": lat,
            "lon": lon,
            "municipality": malmo,
            "category": route.category,
            "body": route.body,
            "title": "Trasig gatlykta",
            "description": "Lyktan är släckt.",
            "name": NAME,
            "email": EMAIL,
            "phone": PHONE,
            "status": ReportStatus.OPEN,
            **fields,
        }
        return Report.objects.create(**values) if save else Report(**values)

    return make


def get(client, **params):
    response = client.get(URL, params)
    return response, json.loads(response.content)


def ids(data) -> set[int]:
    return {f["id"] for f in data["features"] if not f["properties"]["cluster"]}


def total(data) -> int:
    """Reports represented by an answer: cluster counts plus single reports."""
    return sum(
        f["properties"]["count"] if f["properties"]["cluster"] else 1
        for f in data["features"]
    )


@pytest.mark.django_db
def test_street_level_shows_only_public_reports_in_the_box(client, make_report):
    shown = make_report(status=ReportStatus.OPEN)
    fixed = make_report(MALMO[0] + 0.001, MALMO[1], status=ReportStatus.FIXED)
    make_report(status=ReportStatus.UNCONFIRMED)
    make_report(is_hidden=True)
    make_report(MALMO[0] + 0.05, MALMO[1])  # 5 km north, outside the box

    response, data = get(client, bbox=box(*MALMO), zoom=16)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert data["type"] == "FeatureCollection"
    assert data["clustered"] is False
    assert data["truncated"] is False
    assert ids(data) == {shown.pk, fixed.pk}
    feature = next(f for f in data["features"] if f["id"] == shown.pk)
    assert feature["geometry"] == {"type": "Point", "coordinates": [13.0007, 55.6059]}
    props = feature["properties"]
    assert props["title"] == "Trasig gatlykta"
    assert props["category"] == {
        "name": shown.category.name,
        "slug": shown.category.slug,
    }
    assert props["status"] == "open"
    assert props["status_label"] == str(ReportStatus.OPEN.label)
    assert props["municipality"] == "Malmö"
    assert props["url"] == shown.get_absolute_url()
    assert props["reporter"] is None
    assert props["created_at"].endswith("Z")
    created = datetime.fromisoformat(props["created_at"])
    assert created == shown.created_at.replace(microsecond=0)
    assert datetime.fromisoformat(props["updated_at"]) >= created


@pytest.mark.django_db
def test_no_personal_data_leaves_the_server(client, make_report):
    make_report()
    make_report(MALMO[0] + 0.001, MALMO[1], reporter=None)
    for zoom in (16, 12, 5):
        response, _ = get(client, bbox=box(*MALMO, km=5), zoom=zoom)
        raw = response.content.decode()
        for secret in (EMAIL, PHONE, NAME, "hemlig", "987 65"):
            assert secret not in raw, (zoom, secret)


@pytest.mark.django_db
def test_reporter_name_shows_only_by_choice(client, make_report):
    named = make_report(show_name=True)
    make_report(MALMO[0] + 0.001, MALMO[1])

    response, data = get(client, bbox=box(*MALMO), zoom=16)

    by_id = {f["id"]: f["properties"]["reporter"] for f in data["features"]}
    assert by_id.pop(named.pk) == NAME
    assert list(by_id.values()) == [None]
    raw = response.content.decode()
    assert EMAIL not in raw and PHONE not in raw


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("open", OPEN_STATUSES),
        ("closed", CLOSED_STATUSES),
        ("fixed", {ReportStatus.FIXED}),
        ("in_progress,fixed", {"in_progress", "fixed"}),
        # As in Open311, "closed" is every closed status, not just ReportStatus.CLOSED.
        ("in_progress,closed", {"in_progress"} | CLOSED_STATUSES),
        ("open,fixed", OPEN_STATUSES | {ReportStatus.FIXED}),
        ("", OPEN_STATUSES | CLOSED_STATUSES),
    ],
)
def test_status_filter(client, make_report, status, expected):
    every = [s for s in ReportStatus.values if s != ReportStatus.UNCONFIRMED]
    made = {make_report(status=s).pk: s for s in every}

    _, data = get(client, bbox=box(*MALMO), zoom=16, status=status)

    assert {made[i] for i in ids(data)} == set(expected)


@pytest.mark.django_db
def test_category_filter(client, make_report, routes):
    first = make_report(route=0)
    second = make_report(route=1)
    slugs = [r.category.slug for r in routes]

    _, data = get(client, bbox=box(*MALMO), zoom=16, category=slugs[0])
    assert ids(data) == {first.pk}
    _, data = get(client, bbox=box(*MALMO), zoom=16, category=",".join(slugs))
    assert ids(data) == {first.pk, second.pk}
    _, data = get(client, bbox=box(*MALMO), zoom=10, category=slugs[1])
    assert total(data) == 1


@pytest.mark.django_db
def test_street_level_caps_at_the_newest_and_says_so(client, make_report):
    rng = random.Random(7)
    reports = Report.objects.bulk_create(
        make_report(
            MALMO[0] + rng.uniform(-0.004, 0.004),
            MALMO[1] + rng.uniform(-0.007, 0.007),
            save=False,
        )
        for _ in range(reports_map.STREET_LIMIT + 20)
    )
    now = timezone.now()
    for age, report in enumerate(reports):
        report.created_at = now - timedelta(minutes=age)
    Report.objects.bulk_update(reports, ["created_at"])

    _, data = get(client, bbox=box(*MALMO), zoom=16)

    assert data["truncated"] is True
    assert len(data["features"]) == reports_map.STREET_LIMIT
    newest = [r.pk for r in reports[: reports_map.STREET_LIMIT]]
    assert [f["id"] for f in data["features"]] == newest


@pytest.mark.django_db
def test_clusters_at_low_zoom_count_every_public_report(client, make_report):
    rng = random.Random(3)
    for _ in range(40):
        make_report(MALMO[0] + rng.gauss(0, 0.01), MALMO[1] + rng.gauss(0, 0.02))
    make_report(status=ReportStatus.UNCONFIRMED)
    make_report(is_hidden=True)
    lone = make_report(56.2, 14.6)  # far from Malmö: a cell of its own

    _, data = get(client, bbox="12.4,55.3,14.9,56.5", zoom=8)

    assert data["clustered"] is True
    clusters = [f for f in data["features"] if f["properties"]["cluster"]]
    assert clusters and all(f["properties"]["count"] > 1 for f in clusters)
    assert total(data) == 41
    single = next(f for f in data["features"] if f.get("id") == lone.pk)
    assert single["properties"]["url"] == lone.get_absolute_url()
    # A cluster sits at the mean position of its reports, near Malmö.
    biggest = max(clusters, key=lambda f: f["properties"]["count"])
    lon, lat = biggest["geometry"]["coordinates"]
    assert abs(lat - MALMO[0]) < 0.1 and abs(lon - MALMO[1]) < 0.2


@pytest.mark.django_db
def test_no_answer_has_more_than_500_features(client, make_report):
    rng = random.Random(11)
    Report.objects.bulk_create(
        make_report(rng.uniform(55.3, 69.0), rng.uniform(11.0, 24.0), save=False)
        for _ in range(2000)
    )
    for zoom in range(0, 23):
        _, data = get(client, bbox=SWEDEN, zoom=zoom)
        assert len(data["features"]) <= reports_map.MAX_FEATURES, zoom
        assert data["clustered"] is True, zoom
        assert total(data) == 2000, zoom
    _, data = get(client, bbox="-180,-90,180,90", zoom=3)
    assert len(data["features"]) <= reports_map.MAX_FEATURES
    assert total(data) == 2000


@pytest.mark.django_db
def test_clusters_stay_put_while_the_map_pans(client, make_report):
    rng = random.Random(5)
    for _ in range(30):
        make_report(MALMO[0] + rng.gauss(0, 0.02), MALMO[1] + rng.gauss(0, 0.03))

    def clusters(bbox):
        _, data = get(client, bbox=bbox, zoom=10)
        return {
            (tuple(f["geometry"]["coordinates"]), f["properties"].get("count", 1))
            for f in data["features"]
        }

    assert clusters("12.5,55.4,13.5,55.8") == clusters("12.51,55.41,13.52,55.81")


@pytest.mark.django_db
def test_reports_in_bbox_serves_the_list_beside_the_map(make_report):
    older = make_report()
    newer = make_report(MALMO[0] + 0.001, MALMO[1], show_name=True)

    bbox = reports_map.parse_bbox(box(*MALMO))
    result = reports_map.reports_in_bbox(bbox=bbox, zoom=16)

    assert not result.clustered
    assert [r.id for r in result.reports] == [newer.pk, older.pk]
    assert result.reports[0].reporter_name == NAME
    assert result.reports[1].reporter_name == ""
    assert result.reports[1].created == older.created_at.replace(microsecond=0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "lat",
    [55.6059, 55.0, 55.0 + 1 / 256, 59.99609375, -33.9, -90.0, 0.0, 89.999, 90.0],
)
def test_database_and_python_agree_on_the_latitude_band(make_report, lat):
    report = make_report(lat, 13.0)
    in_database = (
        Report.objects.annotate(band=LatBand("lat"))
        .values_list("band", flat=True)
        .get(pk=report.pk)
    )
    assert in_database == reports_map.lat_band_for(lat)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field", "phrase"),
    [
        ({"zoom": "16"}, "bbox", "required"),
        ({"bbox": "", "zoom": "16"}, "bbox", "required"),
        ({"bbox": "13,55,14", "zoom": "16"}, "bbox", "four"),
        ({"bbox": "13,55,14,56,1", "zoom": "16"}, "bbox", "four"),
        ({"bbox": "13,55;14,56", "zoom": "16"}, "bbox", "four"),
        ({"bbox": "öst,55,14,56", "zoom": "16"}, "bbox", "not a number"),
        ({"bbox": "13,55,14,nan", "zoom": "16"}, "bbox", "north: “nan” is not"),
        ({"bbox": "13,55,inf,56", "zoom": "16"}, "bbox", "east: “inf” is not"),
        ({"bbox": "1_3,55,14,56", "zoom": "16"}, "bbox", "west: “1_3” is not"),
        ({"bbox": "13,55,1e999,56", "zoom": "16"}, "bbox", "between -180 and 180"),
        ({"bbox": "-181,55,14,56", "zoom": "16"}, "bbox", "between -180 and 180"),
        ({"bbox": "13,-91,14,56", "zoom": "16"}, "bbox", "between -90 and 90"),
        ({"bbox": "14,55,13,56", "zoom": "16"}, "bbox", "east of east"),
        ({"bbox": "13,56,14,55", "zoom": "16"}, "bbox", "north of north"),
        ({"bbox": "13,55,14,56"}, "zoom", "required"),
        ({"bbox": "13,55,14,56", "zoom": "abc"}, "zoom", "not a whole number"),
        ({"bbox": "13,55,14,56", "zoom": "5.5"}, "zoom", "not a whole number"),
        ({"bbox": "13,55,14,56", "zoom": "-1"}, "zoom", "not a whole number"),
        ({"bbox": "13,55,14,56", "zoom": "23"}, "zoom", "between 0 and 22"),
        ({"bbox": "13,55,14,56", "zoom": "9" * 5000}, "zoom", "between 0 and 22"),
        ({"bbox": "13,55,14,56", "zoom": "١٢"}, "zoom", "not a whole number"),
        (
            {"bbox": "13,55,14,56", "zoom": "10", "status": "broken"},
            "status",
            "“broken”",
        ),
        (
            {"bbox": "13,55,14,56", "zoom": "10", "status": "unconfirmed"},
            "status",
            "“unconfirmed”",
        ),
        (
            {"bbox": "13,55,14,56", "zoom": "10", "category": "gatubelysning,nope"},
            "category",
            "“nope”",
        ),
        (
            {
                "bbox": "13,55,14,56",
                "zoom": "10",
                "category": ",".join(f"c{n}" for n in range(101)),
            },
            "category",
            "At most 100",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, params, field, phrase):
    response = client.get(URL, params)

    assert response.status_code == 400
    data = response.json()
    assert data["error"] == "invalid_query"
    assert list(data["fields"]) == [field]
    assert any(phrase in message for message in data["fields"][field]), data


@pytest.mark.django_db
def test_every_bad_field_is_named_at_once(client):
    response = client.get(URL, {"bbox": "x", "zoom": "99", "category": "nope"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"bbox", "zoom", "category"}


@pytest.mark.django_db
def test_only_get_is_allowed(client):
    assert client.post(URL, {"bbox": "13,55,14,56", "zoom": "5"}).status_code == 405


@pytest.mark.django_db
def test_rate_limited(client, settings):
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "reports_map": (2, 60),
    }
    params = {"bbox": "13,55,14,56", "zoom": "5"}
    # Five requests: however they fall on the window's edge, one window gets three.
    codes = [
        client.get(URL, params, REMOTE_ADDR="192.0.2.77").status_code for _ in range(5)
    ]
    assert 429 in codes


@pytest.mark.django_db
def test_clustered_answers_are_cached_until_the_public_set_changes(
    client, django_capture_on_commit_callbacks
):
    params = {"bbox": "10.5,55.1,24.2,69.1", "zoom": "5"}

    def total():
        features = client.get("/api/v1/reports", params).json()["features"]
        return sum(f["properties"].get("count", 1) for f in features)

    before = total()
    user = citizen()
    category = factories.category("gatubelysning")
    # Written behind the services' back: the cached answer does not see it.
    factories.report(
        point=(55.60, 13.00), title="x", description="x", name="x",
        email="x@example.org", confirmed=False,
    )  # fmt: skip
    assert total() == before
    # A confirmed submission announces itself after commit.
    with django_capture_on_commit_callbacks(execute=True):
        report_submit(
            lat=55.61, lon=13.01, category=category, title="Lykta", description="Släckt",
            reporter=Reporter(name="Bo", email=user.email, user=user),
        )  # fmt: skip
    assert total() == before + 2


@pytest.mark.django_db
def test_the_list_beside_the_map_holds_every_report_a_page_at_a_time(
    client, make_report
):
    """The list is how the map is read by keyboard and screen reader: every
    report of the filter is on one of its pages, linked, newest first."""
    reports = [
        make_report(title=f"Rapport {n}", status=ReportStatus.OPEN)
        for n in range(REPORTS_PER_PAGE + 3)
    ]
    fixed = make_report(title="Lagad", status=ReportStatus.FIXED)
    make_report(title="Obekräftad", status=ReportStatus.UNCONFIRMED)
    newest_first = [r.pk for r in reversed(reports)]

    def listed(**params):
        response = client.get("/rapporter/", params)
        assert response.status_code == 200
        page = response.content.decode()
        items = page.split('id="report-list"', 1)[1].split("</ol>", 1)[0]
        return page, [int(pk) for pk in re.findall(r'href="/rapporter/(\d+)/"', items)]

    first, on_first = listed(status="open")
    second, on_second = listed(status="open", page="2")
    assert on_first == newest_first[:REPORTS_PER_PAGE]
    assert on_second == newest_first[REPORTS_PER_PAGE:]
    # The pages link each other, keeping the filter, without JavaScript.
    assert 'href="?status=open&amp;page=2" rel="next"' in first
    assert 'href="?status=open&amp;page=1" rel="prev"' in second
    assert 'href="?status=open&amp;page=2" aria-current="page"' in second
    assert "53 reports with these choices." in first and "Page 2 of 2." in second
    # A page past the end shows the last; a page that is not a number, the first.
    assert listed(status="open", page="9")[1] == on_second
    assert listed(status="open", page="x")[1] == on_first
    # Without a filter, the fixed report is listed too; never the unconfirmed.
    everything = listed()[1] + listed(page="2")[1]
    assert sorted(everything) == sorted([*newest_first, fixed.pk])


@pytest.mark.django_db
def test_many_pages_of_the_list_are_linked_around_the_current_one(client, make_report):
    Report.objects.bulk_create(
        make_report(title=f"Rapport {n}", save=False)
        for n in range(REPORTS_PER_PAGE * 12)
    )
    page = client.get("/rapporter/", {"page": "6"}).content.decode()
    pager = page.split('<nav class="pager"', 1)[1].split("</nav>", 1)[0]
    numbers = re.findall(r'page=(\d+)"(?: aria-current="page")?><span', pager)
    assert numbers == ["1", "4", "5", "6", "7", "8", "12"]
    # The gaps are seen, not read: the page links say "Sida N".
    assert pager.count('<li aria-hidden="true">…</li>') == 2
    assert (
        'page=6" aria-current="page"><span class="visually-hidden">Page </span>6'
        in (pager)
    )
