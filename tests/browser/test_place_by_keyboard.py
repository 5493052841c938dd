"""Finding the place without the map: search, pick a result and choose a category
by keyboard alone; and adjusting a dropped pin by dragging it."""

import re

import pytest

from devkit.instance import free_port, profile_env, running_site
from devkit.servers import NominatimServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PLACES = [
    {"name": "Stortorget, Malmö, Skåne län, Sverige", "lat": 55.6059, "lon": 13.0007}
]


def test_search_pick_and_choose_by_keyboard_then_drag_the_pin(
    phone, artifacts, tmp_path
):
    port = free_port()
    with (
        NominatimServer(PLACES) as nominatim,
        profile_env(
            tmp_path / "var",
            KNUTPUNKT_GEOCODER_DOMAIN=nominatim.domain,
            KNUTPUNKT_GEOCODER_SCHEME="http",
            KNUTPUNKT_TILE_URL=f"http://127.0.0.1:{port}/no-tiles/{{z}}/{{x}}/{{y}}.png",
        ) as env,
        running_site(env, port),
    ):
        page = phone.new_page()
        page.goto(f"http://localhost:{port}/rapportera/")
        search = page.locator("#id_q")
        search.focus()
        page.keyboard.type("Stortorget")
        page.keyboard.press("Enter")
        result = page.locator("#place-results button", has_text="Stortorget, Malmö")
        result.wait_for()
        assert result.evaluate("el => el === document.activeElement")
        page.keyboard.press("Enter")
        page.locator("#responsibility strong", has_text="Malmö").wait_for()
        assert page.locator("input[name=lat]").input_value() == "55.605900"

        page.locator("input[name=category][value=klotter]").focus()
        page.keyboard.press("Space")
        assert page.locator("input[name=category][value=klotter]").is_checked()
        assert nominatim.queries[0]["countrycodes"] == "se"

        # Drag the pin 60 px east: the point moves east, and stays in Malmö.
        # (Choosing the category scrolled the map away: back to it first.)
        marker = page.locator(".leaflet-marker-icon")
        marker.scroll_into_view_if_needed()
        box = marker.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 4
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 30, y, steps=5)
        page.mouse.move(x + 60, y, steps=5)
        page.mouse.up()
        page.wait_for_function(
            "() => document.querySelector('input[name=lon]').value !== '13.000700'"
        )
        assert float(page.locator("input[name=lon]").input_value()) > 13.0007
        assert re.search(r"Malmö", page.locator("#responsibility").inner_text())
        page.screenshot(path=str(artifacts / "place-by-keyboard.png"), full_page=True)
