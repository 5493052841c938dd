"""The inbox's map and its area filter: the same reports as the list (scope and
filters), bounded answers, and a malformed area refused with a clear message."""

import json

import pytest

from municipalities.choices import StaffRole
from reports.choices import ReportStatus
from reports.models import Report
from tests.support.casework import LUND, MALMO, as_user, make_report
from tests.support.people import staff_user as staff
from workspace import inbox_map

# Around Malmö and Lund, zoomed out (clusters) and at street level.
REGION = {"bbox": "12.8,55.5,13.4,55.8", "zoom": "9"}
STORTORGET = {"bbox": "12.99,55.60,13.01,55.61", "zoom": "16"}


@pytest.fixture
def handler(client):
    return as_user(client, staff("malmo-map-test", MALMO, StaffRole.CASE_HANDLER))


def at(report, lat, lon):
    Report.objects.filter(pk=report.pk).update(lat=lat, lon=lon)
    return report


def features(response):
    assert response.status_code == 200, response.content
    return json.loads(response.content)["features"]


def report_ids(found):
    return {f["properties"]["id"] for f in found if not f["properties"]["cluster"]}


@pytest.mark.django_db
def test_the_map_shows_the_lists_reports_with_links_to_their_screens(handler):
    lamp = make_report(MALMO, title="Släckt lykta")
    hole = make_report(MALMO, title="Hål i vägen", status=ReportStatus.FIXED)
    make_report(MALMO, title="Obekräftad", status=ReportStatus.UNCONFIRMED)
    at(hole, 55.6065, 13.0020)

    found = features(handler.get("/admin/inbox/map/reports/", STORTORGET))
    assert report_ids(found) == {lamp.pk, hole.pk}
    popup = next(f for f in found if f["properties"]["id"] == lamp.pk)["properties"]
    assert popup["url"] == f"/admin/inbox/{lamp.pk}/"
    assert popup["title"] == f"#{lamp.pk} Släckt lykta"
    # The list's filters apply, repeated as the list sends them.
    only_open = handler.get(
        "/admin/inbox/map/reports/", {**STORTORGET, "status": ["open"]}
    )
    assert report_ids(features(only_open)) == {lamp.pk}
    searched = handler.get("/admin/inbox/map/reports/", {**STORTORGET, "q": "hål"})
    assert report_ids(features(searched)) == {hole.pk}


@pytest.mark.django_db
def test_zoomed_out_close_reports_are_one_cluster_with_their_count(handler):
    for n in range(5):
        make_report(MALMO, title=f"Rapport {n}")
    found = features(handler.get("/admin/inbox/map/reports/", REGION))
    assert [f["properties"]["count"] for f in found] == [5]
    assert found[0]["properties"]["cluster"] is True


@pytest.mark.django_db
def test_the_map_answer_is_bounded(handler, monkeypatch):
    monkeypatch.setattr(inbox_map, "STREET_LIMIT", 3)
    for n in range(5):
        make_report(MALMO, title=f"Rapport {n}")
    answer = handler.get("/admin/inbox/map/reports/", STORTORGET)
    body = json.loads(answer.content)
    assert len(body["features"]) == 3 and body["truncated"] is True


@pytest.mark.django_db
def test_another_kommuns_staff_see_nothing_of_it_on_the_map(client):
    malmo = make_report(MALMO, title="Malmös rapport")
    lund = at(make_report(LUND, title="Lunds rapport"), 55.6060, 13.0008)
    as_user(client, staff("lund-map-test", LUND, StaffRole.CASE_HANDLER))
    for params in (STORTORGET, REGION):
        found = features(client.get("/admin/inbox/map/reports/", params))
        assert malmo.pk not in report_ids(found)
        assert sum(f["properties"].get("count", 1) for f in found) == 1
    assert report_ids(
        features(client.get("/admin/inbox/map/reports/", STORTORGET))
    ) == {lund.pk}
    # Someone without the inbox gets no map at all.
    as_user(client, staff("lund-editor-test", LUND, StaffRole.EDITOR))
    assert client.get("/admin/inbox/map/reports/", STORTORGET).status_code == 404
    assert client.get("/admin/inbox/map/").status_code == 404


@pytest.mark.django_db
def test_a_bad_box_or_zoom_is_a_400_saying_which(handler):
    answer = handler.get(
        "/admin/inbox/map/reports/", {"bbox": "13,55,nope,56", "zoom": "99"}
    )
    assert answer.status_code == 400
    errors = json.loads(answer.content)["errors"]
    assert set(errors) == {"bbox", "zoom"}
    assert "not a number" in errors["bbox"][0]


@pytest.mark.django_db
def test_the_list_and_the_map_switch_keeping_the_filters(handler):
    make_report(MALMO, title="Släckt lykta")
    listing = handler.get("/admin/inbox/", {"status": "open", "q": "lykta"})
    assert "/admin/inbox/map/?status=open&amp;q=lykta" in listing.content.decode()
    page = handler.get("/admin/inbox/map/", {"status": "open", "q": "lykta"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-endpoint="/admin/inbox/map/reports/"' in html
    assert 'data-query="status=open&amp;q=lykta"' in html
    assert "/admin/inbox/?status=open&amp;q=lykta" in html
    assert "https://tile.openstreetmap.org" in page["Content-Security-Policy"]


# --- the area filter ---------------------------------------------------------


@pytest.mark.django_db
def test_the_inbox_filters_to_a_drawn_box_or_polygon(handler):
    make_report(MALMO, title="Innanför området")
    at(make_report(MALMO, title="Utanför området"), 55.59, 13.05)
    at(make_report(MALMO, title="I boxens hörn"), 55.6090, 13.0090)

    boxed = handler.get("/admin/inbox/", {"area": "12.99,55.60,13.01,55.61"})
    html = boxed.content.decode()
    assert "Innanför området" in html and "I boxens hörn" in html
    assert "Utanför området" not in html

    # A triangle holding Stortorget but not the box's north-east corner.
    triangle = {
        "type": "Polygon",
        "coordinates": [
            [[12.98, 55.59], [13.025, 55.59], [12.98, 55.635], [12.98, 55.59]]
        ],
    }
    html = handler.get("/admin/inbox/", {"area": json.dumps(triangle)}).content.decode()
    assert "Innanför området" in html
    assert "I boxens hörn" not in html and "Utanför området" not in html
    # The active filter names the kind of area, not its coordinates.
    assert "a drawn area with 3 corners" in html and "POLYGON" not in html
    assert "the map’s area" in boxed.content.decode()
    # The map applies the same area.
    found = handler.get(
        "/admin/inbox/map/reports/", {**REGION, "area": json.dumps(triangle)}
    )
    assert sum(f["properties"].get("count", 1) for f in features(found)) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("area", "message"),
    [
        ("13,55,nope,56", "is not a number"),
        ('{"type": "Point", "coordinates": [13, 55]}', "GeoJSON Polygon"),
        ("{not json", "neither a box nor GeoJSON"),
        (
            # A bow tie: its edges cross.
            '{"type": "Polygon", "coordinates": [[[13,55],[13.1,55.1],[13.1,55],'
            "[13,55.1],[13,55]]]}",
            "not a valid polygon",
        ),
        ('{"type": "Polygon", "coordinates": [[[13, 55], [13]]]}', "malformed"),
        (
            '{"type": "Polygon", "coordinates": [[[200,55],[201,55],[201,56],'
            "[200,55]]]}",
            "longitude and latitude",
        ),
    ],
)
def test_a_bad_area_shows_no_reports_and_says_why(handler, area, message):
    make_report(MALMO, title="Släckt lykta")
    page = handler.get("/admin/inbox/", {"area": area})
    assert page.status_code == 200
    html = page.content.decode()
    assert message in html
    assert "Släckt lykta" not in html
    answer = handler.get("/admin/inbox/map/reports/", {**STORTORGET, "area": area})
    assert answer.status_code == 400
    assert message in json.loads(answer.content)["errors"]["area"][0]
    map_page = handler.get("/admin/inbox/map/", {"area": area})
    assert map_page.status_code == 200 and message in map_page.content.decode()


# --- districts -----------------------------------------------------------------

SOUTH_OF_STORTORGET = {
    "type": "Polygon",
    "coordinates": [
        [
            [12.98, 55.59],
            [13.03, 55.59],
            [13.03, 55.605],
            [12.98, 55.605],
            [12.98, 55.59],
        ]
    ],
}


def district(code, name, geometry):
    from municipalities.models import District, Municipality

    return District.objects.create(
        municipality=Municipality.objects.get(code=code), name=name, geometry=geometry
    )


@pytest.mark.django_db
def test_the_inbox_filters_by_one_of_the_kommuns_districts(handler):
    make_report(MALMO, title="Vid Stortorget")
    at(make_report(MALMO, title="Söder om torget"), 55.60, 13.00)
    south = district(MALMO, "Söder", SOUTH_OF_STORTORGET)
    html = handler.get("/admin/inbox/", {"district": south.pk}).content.decode()
    assert "Söder om torget" in html and "Vid Stortorget" not in html
    found = handler.get("/admin/inbox/map/reports/", {**REGION, "district": south.pk})
    assert sum(f["properties"].get("count", 1) for f in features(found)) == 1
    # Another kommun's district is not a choice.
    lund = district(LUND, "Lunds centrum", SOUTH_OF_STORTORGET)
    answer = handler.get("/admin/inbox/map/reports/", {**REGION, "district": lund.pk})
    assert (
        answer.status_code == 400 and "district" in json.loads(answer.content)["errors"]
    )
    assert "Lunds centrum" not in handler.get("/admin/inbox/").content.decode()


@pytest.mark.django_db
def test_a_kommun_administrator_draws_districts_with_their_area_checked(client):
    from municipalities.models import District, Municipality

    as_user(client, staff("malmo-admin-district", MALMO, StaffRole.ADMIN))
    malmo = Municipality.objects.get(code=MALMO)
    bow_tie = (
        '{"type": "Polygon", "coordinates": [[[13,55],[13.1,55.1],[13.1,55],'
        "[13,55.1],[13,55]]]}"
    )
    refused = client.post(
        "/admin/districts/new/",
        {"municipality": malmo.pk, "name": "Rosengård", "geometry": bow_tie},
    )
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "not a valid polygon" in html and "Rosengård" in html
    assert not District.objects.exists()
    made = client.post(
        "/admin/districts/new/",
        {
            "municipality": malmo.pk,
            "name": "Söder",
            "geometry": json.dumps(SOUTH_OF_STORTORGET),
        },
    )
    assert made.status_code == 302
    assert District.objects.get().name == "Söder"


@pytest.mark.django_db
def test_another_kommuns_administrator_cannot_see_or_change_a_district(client):
    south = district(MALMO, "Söder", SOUTH_OF_STORTORGET)
    as_user(client, staff("lund-admin-district", LUND, StaffRole.ADMIN))
    assert "Söder" not in client.get("/admin/districts/").content.decode()
    assert client.get(f"/admin/districts/edit/{south.pk}/").status_code == 404
    assert client.post(f"/admin/districts/delete/{south.pk}/").status_code == 404
    # Nor can they make one in Malmö.
    from municipalities.models import Municipality

    taken = client.post(
        "/admin/districts/new/",
        {
            "municipality": Municipality.objects.get(code=MALMO).pk,
            "name": "Kapad",
            "geometry": json.dumps(SOUTH_OF_STORTORGET),
        },
    )
    assert taken.status_code == 200 and "Kapad" not in str(
        list(south.municipality.districts.values_list("name", flat=True))
    )
    # A case handler does not set districts up.
    as_user(client, staff("malmo-handler-district", MALMO, StaffRole.CASE_HANDLER))
    assert client.get(f"/admin/districts/edit/{south.pk}/").status_code in (302, 403)


@pytest.mark.django_db
def test_a_search_finds_by_text_and_by_the_case_systems_reference(handler):
    from tests.support.casework import inbox, make_delivery

    for n in range(3):
        make_report(MALMO, title=f"Trasig gatlampa {n}")
    make_report(MALMO, title="Hål i vägen")
    referenced = make_report(MALMO, title="Trasig skylt")
    make_delivery(referenced, inbox(MALMO), external_id="GATA-2026-99")
    found = handler.get("/admin/inbox/", {"q": "GATLAMPA"}).content.decode()
    assert all(f"Trasig gatlampa {n}" in found for n in range(3))
    assert "Hål i vägen" not in found and "Trasig skylt" not in found
    found = handler.get("/admin/inbox/", {"q": "gata-2026-99"}).content.decode()
    assert "Trasig skylt" in found and "gatlampa" not in found


@pytest.mark.django_db
def test_an_area_tested_in_sql_finds_what_shapely_finds(monkeypatch):
    """The even-odd test in SQL, in one band or many, and shapely's (areas too
    large for SQL) choose the same reports: a concave area with a hole, two
    separate areas, and a circle of 100 corners, in SQL and in Python."""
    import copy
    import random

    from shapely.geometry import MultiPolygon, Point, Polygon

    from workspace import areas
    from workspace.areas import inside_expression, within

    base = make_report(MALMO, title="Punkt")
    rng = random.Random(7)
    clones = []
    for _ in range(400):
        clone = copy.copy(base)
        clone.pk = None
        clone.lat = 55.55 + rng.random() * 0.1
        clone.lon = 12.95 + rng.random() * 0.1
        clones.append(clone)
    Report.objects.bulk_create(clones)
    reports = Report.objects.filter(pk__in=[c.pk for c in clones])
    points = {c.pk: Point(c.lon, c.lat) for c in clones}

    u_with_hole = Polygon(
        [(12.96, 55.56), (13.04, 55.56), (13.04, 55.64), (13.02, 55.64),
         (13.02, 55.58), (12.98, 55.58), (12.98, 55.64), (12.96, 55.64)],
        holes=[[(12.965, 55.57), (13.035, 55.57), (13.035, 55.575), (12.965, 55.575)]],
    )  # fmt: skip
    two = MultiPolygon(
        [
            Polygon([(12.95, 55.55), (12.99, 55.55), (12.95, 55.60)]),
            Polygon([(13.00, 55.60), (13.05, 55.60), (13.05, 55.65)]),
        ]
    )
    circle = Point(13.0, 55.6).buffer(0.03, quad_segs=25)
    for area in (u_with_hole, two, circle):
        expected = {pk for pk, point in points.items() if area.contains(point)}
        assert 20 < len(expected) < 380
        inside = inside_expression(area)
        assert inside is not None
        # Rows in a band's part wholly inside test no edge: the U and the
        # circle have such parts, none reaching into the U's notch (the
        # triangles have none: each narrows to a point within its band).
        spans = [span for _top, _edges, span in inside.bands if span]
        assert bool(spans) == (area is not two)
        if area is u_with_hole:
            assert not any(west < 13.0 < east for west, east in spans[1:])
        assert set(within(reports, area).values_list("pk", flat=True)) == expected
    monkeypatch.setattr(areas, "SQL_EDGES_MAX", 50)
    assert inside_expression(circle) is None
    assert set(within(reports, circle).values_list("pk", flat=True)) == {
        pk for pk, point in points.items() if circle.contains(point)
    }


@pytest.mark.django_db
def test_a_search_folds_swedish_letters_and_reads_a_reference_in_any_case(handler):
    from tests.support.casework import inbox, make_delivery

    make_report(MALMO, title="Hål i Östra Förstadsgatan")
    make_report(MALMO, title="Trasig bänk", description="Vid ÅBY GÅRD")
    referenced = make_report(MALMO, title="Nedblåst skylt")
    make_delivery(referenced, inbox(MALMO), external_id="MLM-2026-0042")
    make_report(MALMO, title="Lampa", description="Se ärende MLM-2026-00421")

    def found(q):
        return handler.get("/admin/inbox/", {"q": q}).content.decode()

    assert "Hål i Östra" in found("östra förstadsgatan")
    assert "Hål i Östra" in found("ÖSTRA")
    assert "Trasig bänk" in found("åby gård")
    assert "Trasig bänk" not in found("östra")
    html = found("mlm-2026-0042")
    assert "Nedblåst skylt" in html  # the reference, whole, in any case
    assert "Lampa" in html  # and the text holding it
    assert "Nedblåst skylt" not in found("2026-004")  # a reference is read whole


@pytest.mark.django_db
def test_the_search_index_is_there_and_sqlite_answers_from_it():
    """reports.search makes each database's index, also after a migration
    that rebuilt the table (SQLite); SQLite reads a kommun's search newest
    first from it alone."""
    from django.db import connection

    from reports.search import INDEX_NAME, search_index_ensure

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP INDEX {INDEX_NAME}")
            assert search_index_ensure(connection)
            cursor.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM reports_report "
                "WHERE municipality_id IN (1) AND status <> 'unconfirmed' "
                "AND search_text LIKE '%gata%' ORDER BY created_at DESC, id DESC"
            )
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert f"USING INDEX {INDEX_NAME}" in plan and "TEMP B-TREE" not in plan
        else:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = %s", [INDEX_NAME]
            )
            assert "gin_trgm_ops" in cursor.fetchone()[0]


@pytest.mark.django_db
def test_an_earlier_search_index_is_made_anew_on_sqlite():
    """SQLite's search index of an earlier version (without the number the
    inbox sorts ties by) is replaced, so a search reads in order again."""
    from django.db import connection

    from reports.search import INDEX_NAME, search_index_ensure

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's own index")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {INDEX_NAME}")
        cursor.execute(
            f"CREATE INDEX {INDEX_NAME} ON reports_report "
            "(municipality_id, created_at, status, search_text)"
        )
        assert search_index_ensure(connection)
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [INDEX_NAME])
        assert "created_at, id, status, search_text" in cursor.fetchone()[0]


@pytest.mark.django_db
def test_postgresql_plans_without_jit_or_parallel_workers_and_sorts_by_due_date_from_an_index():
    """Set on every connection (config.settings): the inbox's queries are
    planned for milliseconds. The latest due date first (reports without one
    last) has its index (reports migration 0024), read in its order."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's settings")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'report_due_latest'"
        )
        definition = cursor.fetchone()[0]
    assert "(municipality_id, due_at DESC NULLS LAST, id DESC)" in definition


@pytest.mark.django_db
def test_a_crafted_area_with_a_nearly_flat_edge_is_answered_not_a_500(handler):
    make_report(MALMO, title="Innanför den tunna triangeln")
    # Its second edge rises the smallest float there is over 0.05 degrees:
    # its slope is infinite, which no SQL can be written with.
    thin = {
        "type": "Polygon",
        "coordinates": [
            [[12.95, 0.0], [13.05, 0.0], [13.0, 5e-324], [12.95, 0.1], [12.95, 0.0]]
        ],
    }
    from shapely.geometry import shape

    from workspace.areas import inside_expression

    assert inside_expression(shape(thin)) is None
    response = handler.get("/admin/inbox/", {"area": json.dumps(thin)})
    assert response.status_code == 200
