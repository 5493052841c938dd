"""A kommun site's own map: the tile layer and start view its editors set
(cms.maps), checked when saved, drawn by the report form, the public map and
the report pages of that site only, and allowed by that site's CSP only."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from cms.maps import tile_origin, tile_url_validate
from cms.models import SiteBranding
from municipalities.choices import StaffRole
from tests.cms.test_branding import form, settings_url, site_of
from tests.support import factories
from tests.support.casework import LUND, MALMO, as_user
from tests.support.people import staff_user

TILES = "https://{s}.karta.malmo.example/{z}/{x}/{y}.png"
ORIGIN = "https://*.karta.malmo.example"


def csp_img_src(response) -> str:
    policy = response["Content-Security-Policy"]
    return re.search(r"img-src ([^;]*)", policy).group(1)


@pytest.mark.parametrize(
    "url",
    [
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "https://{s}.tile.example.se/{z}/{x}/{y}{r}.png",
        "https://tiles.example.se/v1/{z}/{y}/{x}.jpg?key=public-key",
        "https://tiles.example.se:8443/{z}/{x}/{y}.png",
    ],
)
def test_tile_urls_leaflet_can_fill_and_a_csp_can_name_are_taken(url):
    tile_url_validate(url)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://tiles.example.se/{z}/{x}/{y}.png", "https://"),
        ("tiles.example.se/{z}/{x}/{y}.png", "https://"),
        ("https://tiles.example.se/{z}/{x}.png", "{y} is missing"),
        ("https://tiles.example.se/{z}/{x}/{y}.png?k={key}", "not {key}"),
        ("https://{z}.example.se/{z}/{x}/{y}.png", "server's name"),
        ("https://tiles{s}.example.se/{z}/{x}/{y}.png", "server's name"),
        ("https://user:secret@tiles.example.se/{z}/{x}/{y}.png", "password"),
        ("https://exa mple/{z}/{x}/{y}.png", "not a valid"),
    ],
)
def test_other_tile_urls_are_refused_saying_why(url, says):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        tile_url_validate(url)
    assert says in refused.value.messages[0]


def test_the_csp_names_a_tile_servers_origin():
    assert tile_origin(TILES) == ORIGIN
    assert tile_origin("https://t.example.se:8443/{z}/{x}/{y}.png") == (
        "https://t.example.se:8443"
    )
    assert tile_origin("") == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {
                "tile_url": "http://t.example.se/{z}/{x}/{y}.png",
                "tile_attribution": "T",
            },
            ["tile_url"],
        ),
        ({"tile_url": TILES, "tile_attribution": " "}, ["tile_attribution"]),
        (
            {"map_latitude": "59.91", "map_longitude": "10.0", "map_zoom": "12"},
            ["map_longitude"],
        ),
        (
            {"map_latitude": "70.5", "map_longitude": "13.0", "map_zoom": "12"},
            ["map_latitude"],
        ),
        (
            {"map_latitude": "55.6", "map_longitude": "13.0", "map_zoom": "19"},
            ["map_zoom"],
        ),
        ({"map_latitude": "55.6"}, ["map_longitude", "map_zoom"]),
        (
            {"map_latitude": "norr", "map_longitude": "13.0", "map_zoom": "12"},
            ["map_latitude"],
        ),
    ],
)
def test_a_map_setting_out_of_bounds_is_said_at_its_field_and_nothing_saved(
    client, fields, errors
):
    as_user(client, staff_user("malmo-karta", MALMO, StaffRole.EDITOR))
    with translation.override("en"):
        refused = client.post(settings_url(MALMO), form(contact_phone="1", **fields))
    assert refused.status_code == 200
    assert sorted(refused.context["form"].errors) == errors
    branding = SiteBranding.for_site(site_of(MALMO))
    assert branding.tile_url == "" and branding.map_zoom is None
    assert branding.contact_phone == ""  # nothing of the form


@pytest.mark.django_db
def test_a_start_view_in_sweden_is_taken_and_its_limits_named(client):
    as_user(client, staff_user("malmo-karta", MALMO, StaffRole.EDITOR))
    with translation.override("en"):
        refused = client.post(
            settings_url(MALMO),
            form(map_latitude="55.6", map_longitude="9.9", map_zoom="4"),
        )
    errors = refused.context["form"].errors
    assert "a longitude from 10.59 to 24.18" in errors["map_longitude"][0]
    assert "from 5 (a region) to 18 (a street)" in errors["map_zoom"][0]


@pytest.mark.django_db
def test_an_editor_gives_their_site_its_own_map_and_only_its_maps_use_it(client):
    as_user(client, staff_user("malmo-karta", MALMO, StaffRole.EDITOR))
    saved = client.post(
        settings_url(MALMO),
        form(
            tile_url=TILES,
            tile_attribution="© Malmö stad <b>",
            map_latitude="55.605",
            map_longitude="13.0038",
            map_zoom="13",
        ),
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    client.logout()
    report = factories.report(code=MALMO)

    for path in ("/rapportera/", "/rapporter/"):
        page = client.get(path, HTTP_HOST="malmo.localhost")
        html = page.content.decode()
        assert f'data-tiles="{TILES}"' in html, path
        # The editors' text is shown as text, not HTML, by the map's script.
        assert 'data-attribution="© Malmö stad &amp;lt;b&amp;gt;"' in html, path
        assert 'data-view="55.605000,13.003800,13"' in html, path
        assert ORIGIN in csp_img_src(page), path
    detail = client.get(f"/rapporter/{report.pk}/", HTTP_HOST="malmo.localhost")
    assert f'data-tiles="{TILES}"' in detail.content.decode()
    assert ORIGIN in csp_img_src(detail)

    # Another kommun's site and the national site keep the platform's map, and
    # their pages do not allow Malmö's tile server.
    for host in ("lund.localhost", "localhost"):
        for path in ("/rapportera/", "/rapporter/", f"/rapporter/{report.pk}/"):
            page = client.get(path, HTTP_HOST=host)
            html = page.content.decode()
            assert "karta.malmo.example" not in html, (host, path)
            assert 'data-tiles="https://tile.openstreetmap.org/' in html
            assert "data-view=" not in html
            assert "karta.malmo.example" not in page["Content-Security-Policy"]
    # Nor do Malmö's answers that draw no map.
    api = client.get(
        "/api/v1/reports",
        {"bbox": "12.9,55.5,13.1,55.7", "zoom": "12"},
        HTTP_HOST="malmo.localhost",
    )
    assert api.status_code == 200
    assert "karta.malmo.example" not in api.get("Content-Security-Policy", "")


@pytest.mark.django_db
def test_a_site_without_its_own_map_keeps_the_platforms(client):
    page = client.get("/rapportera/", HTTP_HOST="lund.localhost")
    html = page.content.decode()
    assert 'data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in html
    assert 'data-attribution="&amp;copy; OpenStreetMap contributors"' in html
    assert "data-view=" not in html
    assert csp_img_src(page) == "'self' data: blob: https://tile.openstreetmap.org"
    assert SiteBranding.for_site(site_of(LUND)).tile_url == ""
