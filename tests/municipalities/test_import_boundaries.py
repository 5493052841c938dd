import io
import json

import pytest
from django.core.management import CommandError, call_command

from municipalities.locate import municipality_for_point
from municipalities.models import BoundaryGeneration, Municipality


def _square(lon, lat, size=0.1):
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [lon, lat],
                [lon + size, lat],
                [lon + size, lat + size],
                [lon, lat + size],
                [lon, lat],
            ]
        ],
    }


def _collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def _feature(code, name, geometry, code_key="kommunkod", name_key="kommunnamn"):
    return {
        "type": "Feature",
        "properties": {code_key: code, name_key: name},
        "geometry": geometry,
    }


@pytest.fixture
def write(tmp_path):
    def _write(content, name="boundaries.geojson"):
        path = tmp_path / name
        path.write_text(
            content if isinstance(content, str) else json.dumps(content),
            encoding="utf-8",
        )
        return str(path)

    return _write


@pytest.mark.django_db
def test_import_activates_a_new_generation_and_locate_uses_it(
    write, django_capture_on_commit_callbacks
):
    before = BoundaryGeneration.objects.get(is_active=True)
    # Malmö moved to a square in Norrland: only this file's shapes count now.
    path = write(_collection(_feature("1280", "Malmö", _square(17.0, 64.0))))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_boundaries", path, stdout=open_null())
    active = BoundaryGeneration.objects.get(is_active=True)
    assert active.pk != before.pk
    assert active.feature_count == 1
    assert not BoundaryGeneration.objects.get(pk=before.pk).is_active
    assert municipality_for_point(lat=64.05, lon=17.05).municipality.code == "1280"
    assert municipality_for_point(lat=55.6059, lon=13.0007).municipality is None


@pytest.mark.django_db
def test_property_names_are_configurable_and_numeric_codes_keep_the_zero(write):
    path = write(
        _collection(_feature(180, "Stockholm", _square(18.0, 59.3), "KOM_KOD", "NAMN"))
    )
    call_command(
        "import_boundaries",
        path,
        "--code-property=KOM_KOD",
        "--name-property=NAMN",
        stdout=open_null(),
    )
    generation = BoundaryGeneration.objects.get(is_active=True)
    assert list(generation.boundaries.values_list("municipality__code", flat=True)) == [
        "0180"
    ]


@pytest.mark.django_db
def test_import_creates_a_kommun_it_did_not_know(write):
    Municipality.objects.filter(code="2584").delete()
    path = write(_collection(_feature("2584", "Kiruna", _square(20.0, 67.8))))
    call_command("import_boundaries", path, stdout=open_null())
    kiruna = Municipality.objects.get(code="2584")
    assert (kiruna.name, kiruna.slug, kiruna.county.code) == ("Kiruna", "kiruna", "25")


BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[13, 55], [13.1, 55.1], [13.1, 55], [13, 55.1], [13, 55]]],
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ({"type": "Feature"}, "is not a GeoJSON FeatureCollection"),
        ({"type": "FeatureCollection"}, "has no 'features' list"),
        (_collection(), "has no features"),
        (
            _collection(
                {"type": "Feature", "properties": {"namn": "X"}, "geometry": None}
            ),
            "has no property 'kommunkod' (properties present: namn)",
        ),
        (
            _collection(_feature("12800", "Malmö", _square(13, 55))),
            "is '12800', not a four-digit kommunkod",
        ),
        (
            _collection(_feature("9980", "Nowhere", _square(13, 55))),
            "does not start with a known länskod",
        ),
        (
            _collection(
                _feature("1280", "Malmö", _square(13, 55)),
                _feature("1281", "Lund", _square(13.2, 55)),
                _feature("1280", "Malmö", _square(13.4, 55)),
            ),
            "Duplicate kommunkod 1280 in features #1 and #3",
        ),
        (
            _collection(_feature("1280", "Malmö", None)),
            "(kommunkod 1280) has no geometry",
        ),
        (
            _collection(
                _feature("1280", "Malmö", {"type": "Point", "coordinates": [13, 55]})
            ),
            "geometry is Point, expected Polygon or MultiPolygon",
        ),
        (
            _collection(_feature("1280", "Malmö", BOWTIE)),
            "invalid geometry (Self-intersection",
        ),
        (
            _collection(_feature("1280", "Malmö", _square(374000, 6164000, 1000))),
            "must be in WGS84 (EPSG:4326)",
        ),
        (
            _collection(
                _feature("1280", "Malmö", {"type": "Polygon", "coordinates": "x"})
            ),
            "unreadable geometry",
        ),
    ],
)
def test_bad_file_is_refused_with_a_clear_error_and_nothing_changes(
    write, content, message
):
    before = list(BoundaryGeneration.objects.values_list("pk", "is_active"))
    path = write(content)
    with pytest.raises(CommandError) as exc:
        call_command("import_boundaries", path, stdout=open_null())
    assert message in str(exc.value)
    assert list(BoundaryGeneration.objects.values_list("pk", "is_active")) == before
    assert municipality_for_point(lat=55.6059, lon=13.0007).municipality.code == "1280"


@pytest.mark.django_db
def test_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_boundaries", str(tmp_path / "nope.geojson"))


def open_null():
    return io.StringIO()
