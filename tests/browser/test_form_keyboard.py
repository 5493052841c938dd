"""The report form and the map of reports by keyboard and screen reader, in
Swedish on a phone: without JavaScript from search to the thanks page; a pin put
by keyboard alone and announced; focus after a search result; errors listed at
the top and at each field; the list beside the map, paged."""

import re

import pytest

from devkit.instance import free_port, profile_env, running_site, shell
from devkit.servers import NominatimServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PLACES = [
    {"name": "Stortorget, Malmö, Skåne län, Sverige", "lat": 55.6059, "lon": 13.0007},
    {"name": "Stortorget, Stockholm, Sverige", "lat": 59.3250, "lon": 18.0707},
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "sv-SE",
}
MANY_REPORTS = 55
MAKE_REPORTS = """
from tests.support import factories
for n in range({count}):
    factories.report(title=f"Trasig lykta {{n + 1:02d}}")
print("ok")
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One served instance for the module (with a loopback place search)."""
    port = free_port()
    with (
        NominatimServer(PLACES) as nominatim,
        profile_env(
            tmp_path_factory.mktemp("form") / "var",
            KNUTPUNKT_GEOCODER_DOMAIN=nominatim.domain,
            KNUTPUNKT_GEOCODER_SCHEME="http",
            # No traffic leaves the machine: tiles come from our own server (and 404).
            KNUTPUNKT_TILE_URL=f"http://127.0.0.1:{port}/no-tiles/{{z}}/{{x}}/{{y}}.png",
        ) as env,
        running_site(env, port),
    ):
        yield {"port": port, "env": env}


def active(page) -> dict:
    return page.evaluate(
        "() => { const el = document.activeElement;"
        " return {id: el.id, name: el.getAttribute('name') || '', tag: el.tagName,"
        " connected: el.isConnected}; }"
    )


SETTLE = """async () => {
  // Until the map has stood still for a few frames (a pan or zoom has ended).
  const state = () => [...document.querySelectorAll('#map .leaflet-map-pane, #map .leaflet-proxy, #map .leaflet-marker-icon')]
    .map(el => el.style.transform).join('|') + document.getElementById('map').className;
  let last = state(), still = 0;
  while (still < 5) {
    await new Promise(r => requestAnimationFrame(r));
    const now = state();
    still = now === last && !/leaflet-zoom-anim/.test(now) ? still + 1 : 0;
    last = now;
  }
}"""


ANNOUNCEMENT_AT = """async ([lat, lon]) => {
  const answer = await fetch(`/rapportera/kategorier/?lat=${lat}&lon=${lon}`);
  const html = new DOMParser().parseFromString(await answer.text(), 'text/html');
  return html.getElementById('responsibility').dataset.announce;
}"""


def press_on_map(page, *keys):
    """Press each key on the focused map, and let the map settle after each."""
    for key in keys:
        page.keyboard.press(key)
        page.evaluate(SETTLE)


def fill_details(page, email="sara@example.org"):
    page.locator("#id_title").fill("Släckt gatlykta")
    page.locator("#id_description").fill("Lyktan vid Stortorget är släckt.")
    page.locator("#id_name").fill("Sara Svensson")
    page.locator("#id_email").fill(email)


def test_without_javascript_search_choose_and_send(browser, site, artifacts):
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    base = f"http://localhost:{site['port']}"
    page.goto(f"{base}/rapportera/")
    page.locator("#id_q").fill("Stortorget")
    page.locator("#id_q").press("Enter")
    result = page.locator("#place-results a", has_text="Stortorget, Malmö")
    result.wait_for()
    # The map needs the script: without it, neither it nor its hint is shown.
    assert page.locator("#map").is_hidden() and page.locator("#map-hint").is_hidden()
    page.screenshot(path=str(artifacts / "nojs-1-results.png"), full_page=True)
    result.click()
    page.wait_for_url(re.compile(r"lat=55\.605900"))
    assert page.locator("input[name=lat]").input_value() == "55.605900"
    assert page.locator("input[name=lon]").input_value() == "13.000700"
    assert page.locator("#place-status").inner_text() == (
        "Platsen vald: Stortorget, Malmö, Skåne län, Sverige, i Malmö kommun."
    )
    page.locator("#id_category_gatubelysning").check()
    fill_details(page, email="sara@")
    page.screenshot(path=str(artifacts / "nojs-2-place-chosen.png"), full_page=True)
    page.locator("#report-form button[type=submit]").click()

    # Refused: the list of errors has focus, and its link leads to the field.
    page.wait_for_load_state()
    assert page.title().startswith("Fel:")
    assert active(page)["id"] == "error-summary"
    link = page.locator("#error-summary a")
    assert link.all_inner_texts() == [
        "Din e-postadress: Fyll i en giltig e-postadress."
    ]
    email = page.locator("#id_email")
    assert email.get_attribute("aria-invalid") == "true"
    assert email.get_attribute("aria-describedby") == "id_email_error"
    assert page.locator("#id_email_error").inner_text() == (
        "Fyll i en giltig e-postadress."
    )
    page.screenshot(path=str(artifacts / "nojs-3-errors.png"), full_page=True)
    link.click()
    assert active(page)["id"] == "id_email"
    # Nothing typed was lost, nor the place.
    assert page.locator("#id_title").input_value() == "Släckt gatlykta"
    assert page.locator("#id_category_gatubelysning").is_checked()
    assert page.locator("input[name=lat]").input_value() == "55.605900"
    email.fill("sara@example.org")
    page.locator("#report-form button[type=submit]").click()
    # (The redirect keeps the fragment the summary's link put in the address.)
    page.wait_for_url(re.compile(r"/rapportera/tack/(#id_email)?$"))
    page.screenshot(path=str(artifacts / "nojs-4-thanks.png"), full_page=True)
    context.close()


def test_a_pin_by_keyboard_alone_is_announced_then_errors_and_sending(
    browser, site, artifacts
):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    base = f"http://malmo.localhost:{site['port']}"
    page.goto(f"{base}/rapportera/")
    lat, lon = page.locator("input[name=lat]"), page.locator("input[name=lon]")
    status = page.locator("#place-status")
    # Sent before a place is chosen: the errors are listed and take focus.
    page.locator("#report-form button[type=submit]").focus()
    page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    summary.wait_for(state="visible")
    assert active(page)["id"] == "error-summary"
    assert summary.locator("a").all_inner_texts() == [
        "Markera först platsen på kartan eller sök efter en plats.",
        "Kategori: Det här fältet är obligatoriskt",
        "Rubrik: Det här fältet är obligatoriskt",
        "Beskrivning: Det här fältet är obligatoriskt",
        "Ditt namn: Det här fältet är obligatoriskt",
        "Din e-postadress: Det här fältet är obligatoriskt",
    ]
    title = page.locator("#id_title")
    assert title.get_attribute("aria-invalid") == "true"
    assert title.get_attribute("aria-describedby") == "id_title_error"
    assert (
        page.locator("#id_title_error").inner_text()
        == "Det här fältet är obligatoriskt"
    )
    assert page.locator("#id_q").get_attribute("aria-describedby") == "place-error"
    assert page.title().startswith("Fel: ")
    page.screenshot(path=str(artifacts / "keyboard-1-errors.png"), full_page=True)
    summary.locator("a", has_text="Rubrik").press("Enter")
    assert active(page)["id"] == "id_title"

    # Tab to the map: it shows a cross at its centre.
    page.locator("#place-search button").focus()
    for _ in range(3):
        page.keyboard.press("Tab")
        if active(page)["id"] == "map":
            break
    assert active(page)["id"] == "map"
    cross = page.evaluate(
        "() => getComputedStyle(document.getElementById('map'), '::after').content"
    )
    assert cross == '""'
    page.screenshot(path=str(artifacts / "keyboard-2-map-focused.png"))
    # Enter puts the pin at the centre; the arrows move the map, Enter again
    # moves the pin there.
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('input[name=lat]').value")
    start = float(lat.input_value()), float(lon.input_value())
    # The error that asked for a place is gone, from the field and its text.
    assert page.locator("#place-error").inner_text() == ""
    assert page.locator("#id_q").get_attribute("aria-invalid") is None
    status.filter(has_text="Platsen vald: i Malmö kommun.").wait_for()
    # Closer in (Leaflet's "+"), then pan: Space puts the pin at the new centre.
    # (West and north: towards the city, away from the kommun's eastern border.)
    press_on_map(page, "Equal", "Equal", "Equal", "ArrowLeft", "ArrowLeft", "ArrowUp")
    page.evaluate(
        "() => { document.getElementById('responsibility').dataset.old = 1; }"
    )
    page.keyboard.press(" ")
    page.locator("#responsibility:not([data-old])").wait_for(state="attached")
    moved = float(lat.input_value()), float(lon.input_value())
    assert moved[1] < start[1] and moved[0] > start[0]
    # Announced as the server describes the new point (the kommun there).
    expected = page.evaluate(ANNOUNCEMENT_AT, [lat.input_value(), lon.input_value()])
    assert expected.startswith("Platsen vald: ") and "kommun" in expected
    assert status.inner_text() == expected
    assert status.get_attribute("aria-live") == "polite"
    assert active(page)["id"] == "map"
    page.screenshot(path=str(artifacts / "keyboard-3-pin-placed.png"))

    # Leaflet's own keys still work: "+" zooms in (the pin, off the centre,
    # moves about twice as far from it).
    marker = page.locator(".leaflet-marker-icon")
    assert marker.get_attribute("alt") == "Platsen för felet"

    def offset():
        m, box = marker.bounding_box(), page.locator("#map").bounding_box()
        return (m["x"] + m["width"] / 2) - (box["x"] + box["width"] / 2)

    press_on_map(page, "ArrowRight")
    before = offset()
    assert before < -40
    press_on_map(page, "Equal")
    assert offset() < 1.5 * before  # about twice as far (a zoom step)
    # Enter on the pin itself does not move it to the centre.
    marker.focus()
    press_on_map(page, "Enter")
    assert (float(lat.input_value()), float(lon.input_value())) == moved

    # Trafikverket's state roads are taken wherever the pin ended up.
    page.locator("#id_category_vagar-riksvagartrafikverket").focus()
    page.keyboard.press("Space")
    fill_details(page)
    page.locator("#report-form button[type=submit]").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/rapportera/tack/$"))
    context.close()


def test_focus_moves_to_the_categories_once_they_have_loaded(browser, site, artifacts):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"http://localhost:{site['port']}/rapportera/")
    for place, kommun in (("Stortorget, Malmö", "Malmö"), ("Stockholm", "Stockholm")):
        page.locator("#id_q").fill("Stortorget")
        page.locator("#id_q").press("Enter")
        result = page.locator("#place-results button", has_text=place)
        result.wait_for()
        result.focus()
        page.keyboard.press("Enter")
        page.locator("#responsibility strong", has_text=kommun).wait_for()
        page.wait_for_function(
            "() => document.activeElement.name === 'category'"
            " && document.getElementById('responsibility').contains(document.activeElement)"
        )
        focused = active(page)
        assert focused["connected"] and focused["name"] == "category"
        assert (
            page.locator("#place-status")
            .inner_text()
            .startswith(
                f"Platsen vald: {PLACES[0 if kommun == 'Malmö' else 1]['name']}, i {kommun}"
            )
        )
    page.screenshot(path=str(artifacts / "search-focus-categories.png"), full_page=True)
    context.close()


def test_every_report_is_in_the_paged_list_beside_the_map(browser, site, artifacts):
    shell(site["env"], MAKE_REPORTS.format(count=MANY_REPORTS))
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"http://localhost:{site['port']}/rapporter/")
    # On the map, the reports gather in a cluster: a button that says what it is.
    cluster = page.locator(".report-cluster")
    cluster.wait_for()
    assert cluster.get_attribute("role") == "button"
    assert cluster.get_attribute("aria-label") == (
        f"Felanmälningar här: {MANY_REPORTS}. Tryck Enter för att zooma in."
    )
    items = page.locator("#report-list li a")
    assert items.count() == 50
    assert items.first.inner_text() == f"Trasig lykta {MANY_REPORTS:02d}"
    page.locator(".pager a", has_text="Nästa sida").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"page=2$"))
    assert items.all_inner_texts() == [f"Trasig lykta {n:02d}" for n in range(5, 0, -1)]
    current = page.locator(".pager [aria-current=page]").text_content()
    assert " ".join(current.split()) == "Sida 2"
    page.screenshot(path=str(artifacts / "map-list-page-2.png"), full_page=True)
    context.close()
