import csv
import random

import pytest
import shapely
from django.core.exceptions import ValidationError

from municipalities.boundaries import read_geojson, read_packaged
from municipalities.choices import LocateMatch
from municipalities.geo import BoundaryIndex
from municipalities.locate import (
    boundary_index_invalidate,
    municipality_for_point,
    parse_point,
)
from municipalities.services import boundaries_import

KNOWN_POINTS = [
    ("Malmö Stortorget", 55.6059, 13.0007, "1280"),
    ("Sergels torg", 59.3326, 18.0649, "0180"),
    ("Jönköping", 57.7826, 14.1618, "0680"),
    ("Bromölla", 56.0726, 14.4671, "1272"),
    ("Ockelbo", 60.8897, 16.7186, "2101"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("place", "lat", "lon", "code"), KNOWN_POINTS)
def test_known_point_is_in_its_kommun(place, lat, lon, code):
    located = municipality_for_point(lat=lat, lon=lon)
    assert located.match == LocateMatch.INSIDE, place
    assert located.municipality.code == code


@pytest.mark.django_db
def test_oslo_is_outside_sweden():
    located = municipality_for_point(lat=59.91, lon=10.75)
    assert located.match == LocateMatch.OUTSIDE
    assert located.municipality is None


# A 10 km square kommun around 60°N 15°E, in lon/lat.
SQUARE = shapely.box(15.0, 60.0, 15.0 + 10 / (111.2 * 0.5), 60.0 + 10 / 111.2)


def test_point_just_off_the_coast_goes_to_the_nearest_kommun():
    index = BoundaryIndex([("2080", SQUARE)], nearest_max_m=5000)
    # 2 km south of the square's southern edge.
    hit = index.locate(lat=60.0 - 2 / 111.2, lon=15.05)
    assert hit.code == "2080"
    assert hit.distance_m == pytest.approx(2000, rel=0.01)


def test_point_beyond_the_nearest_distance_has_no_kommun():
    index = BoundaryIndex([("2080", SQUARE)], nearest_max_m=5000)
    assert index.locate(lat=60.0 - 6 / 111.2, lon=15.05) is None
    assert index.locate(lat=60.0 - 4.9 / 111.2, lon=15.05).code == "2080"


def test_nearest_distance_zero_disables_the_fallback():
    index = BoundaryIndex([("2080", SQUARE)], nearest_max_m=0)
    assert index.locate(lat=60.0 - 0.1 / 111.2, lon=15.05) is None
    assert index.locate(lat=60.01, lon=15.05).code == "2080"


@pytest.mark.django_db
def test_nearest_distance_comes_from_settings(settings):
    features = [f for f in read_packaged() if f.code == "1280"]
    boundaries_import(features=features, source="Malmö only", nearest_max_m=5000)
    # Just west of Malmö's coastline, in Öresund: inside no polygon of this set.
    lat, lon = 55.6059, 12.90
    settings.KNUTPUNKT_NEAREST_MAX_METERS = 0

    boundary_index_invalidate()
    assert municipality_for_point(lat=lat, lon=lon).match == LocateMatch.OUTSIDE
    settings.KNUTPUNKT_NEAREST_MAX_METERS = 20_000
    boundary_index_invalidate()
    located = municipality_for_point(lat=lat, lon=lon)
    assert located.match == LocateMatch.NEAREST
    assert located.municipality.code == "1280"
    assert 0 < located.distance_m <= 20_000


def test_grid_and_tree_agree_with_brute_force_containment():
    """The index answers exactly what a plain point-in-polygon test over every
    kommun answers, for points not within a few metres of a border."""
    features = read_packaged()
    index = BoundaryIndex([(f.code, f.geometry) for f in features], nearest_max_m=0)
    geoms = [f.geometry for f in features]
    codes = [f.code for f in features]
    rnd = random.Random(7)
    checked = 0
    for _ in range(3000):
        lat, lon = rnd.uniform(55.2, 69.1), rnd.uniform(11.0, 24.2)
        point = shapely.Point(lon, lat)
        containing = [c for c, g in zip(codes, geoms, strict=True) if g.contains(point)]
        near_border = any(g.boundary.distance(point) < 1e-4 for g in geoms)
        if near_border:
            continue
        hit = index.locate(lat=lat, lon=lon)
        assert (hit.code if hit else None) == (min(containing) if containing else None)
        checked += 1
    assert checked > 2900


@pytest.mark.parametrize(
    ("lat", "lon", "bad_fields"),
    [
        ("abc", "13.0", {"lat"}),
        ("55.6", "", {"lon"}),
        (None, None, {"lat", "lon"}),
        ("91", "13", {"lat"}),
        ("55", "-181", {"lon"}),
        ("nan", "13", {"lat"}),
        ("55", "inf", {"lon"}),
        ("1e999", "13", {"lat"}),
    ],
)
def test_bad_coordinates_are_a_validation_error_naming_the_field(lat, lon, bad_fields):
    with pytest.raises(ValidationError) as exc:
        parse_point(lat, lon)
    assert set(exc.value.message_dict) == bad_fields


def test_good_coordinates_parse_to_floats():
    assert parse_point("55.6059", " 13.0007 ") == (55.6059, 13.0007)


@pytest.mark.django_db
def test_locate_api_answers_the_kommun(client):
    response = client.get("/api/v1/locate", {"lat": "55.6059", "lon": "13.0007"})
    assert response.status_code == 200
    body = response.json()
    assert body["match"] == "inside"
    assert body["municipality"]["code"] == "1280"
    assert body["municipality"]["name"] == "Malmö"
    assert body["municipality"]["participating"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [{"lat": "x", "lon": "13"}, {"lat": "55"}, {}, {"lat": "NaN", "lon": "1e400"}],
)
def test_locate_api_rejects_bad_coordinates_with_400_json(client, params):
    response = client.get("/api/v1/locate", params)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_point"


@pytest.mark.django_db
def test_locate_api_outside_sweden_is_not_an_error(client):
    response = client.get("/api/v1/locate", {"lat": "59.91", "lon": "10.75"})
    assert response.status_code == 200
    assert response.json() == {
        "lat": 59.91,
        "lon": 10.75,
        "match": "outside_sweden",
        "distance_m": 0.0,
        "municipality": None,
    }


def _places(shared_data):
    with open(shared_data / "sweden_places_testset.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _agreement(index, places):
    right = 0
    for place in places:
        hit = index.locate(lat=float(place["lat"]), lon=float(place["lon"]))
        right += hit is not None and hit.code == place["kommunkod"]
    return right / len(places)


def test_lantmateriet_boundaries_place_every_test_place_right(shared_data):
    places = _places(shared_data)
    assert len(places) == 1690
    features = read_geojson(shared_data / "sweden_municipalities.geojson")
    assert len(features) == 290
    index = BoundaryIndex([(f.code, f.geometry) for f in features], nearest_max_m=5000)
    assert _agreement(index, places) == 1.0


def test_packaged_boundaries_place_at_least_98_percent_right(shared_data, capsys):
    places = _places(shared_data)
    features = read_packaged()
    index = BoundaryIndex([(f.code, f.geometry) for f in features], nearest_max_m=5000)
    agreement = _agreement(index, places)
    with capsys.disabled():
        print(f"\nembedded default boundaries: {agreement:.2%} of 1,690 places right")
    assert agreement >= 0.98


@pytest.mark.django_db
def test_locate_api_limits_each_client_and_says_when_to_retry(client, settings):
    settings.KNUTPUNKT_RATE_LIMITS = {"locate": (3, 86_400)}
    # Fresh documentation-range addresses, so that counts left in a shared cache
    # by earlier runs cannot interfere.
    me, other = (f"2001:db8::{random.getrandbits(32):x}" for _ in range(2))
    params = {"lat": "55.6059", "lon": "13.0007"}
    for _ in range(3):
        assert client.get("/api/v1/locate", params, REMOTE_ADDR=me).status_code == 200
    limited = client.get("/api/v1/locate", params, REMOTE_ADDR=me)
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert 0 < int(limited["Retry-After"]) <= 86_400
    assert client.get("/api/v1/locate", params, REMOTE_ADDR=other).status_code == 200
