"""A new user on a phone files a report with a photo in Malmö by tapping the map,
confirms it by the e-mailed link, and sees it on its page and on the map."""

import re

import pytest
from PIL import Image

from devkit.instance import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_new_user_reports_a_street_light_in_malmo(
    phone, artifacts, mailed_site, tmp_path
):
    photo = tmp_path / "lykta.jpg"
    image = Image.new("RGB", (1200, 900), (30, 30, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    image.save(photo, "JPEG", exif=exif.tobytes())
    base = mailed_site.url()
    smtp = mailed_site.smtp
    page = phone.new_page()
    page.goto(f"{base}/rapportera/")
    # "Use my position" asks the browser, which here says Lund...
    phone.grant_permissions(["geolocation"], origin=base)
    phone.set_geolocation({"latitude": 55.7047, "longitude": 13.1910})
    page.locator("#locate-me").tap()
    page.locator("#responsibility strong", has_text="Lund").wait_for()
    # ...but the problem is in Malmö, the kommun whose site this is: the map
    # opens on Malmö, and a tap on it drops the pin there.
    page.goto(f"{base}/rapportera/")
    page.locator("#map").tap()
    page.locator("#responsibility strong", has_text="Malmö").wait_for()
    page.get_by_label("Gatubelysning").check()
    page.locator("input[name=title]").fill("Släckt gatlykta")
    page.locator("textarea[name=description]").fill(
        "Lyktan vid Stortorget har varit släckt i tre kvällar."
    )
    page.locator("input[name=photos]").set_input_files(str(photo))
    page.locator("input[name=name]").fill("Sara Svensson")
    page.locator("input[name=email]").fill("sara@example.org")
    page.screenshot(path=str(artifacts / "report-1-form.png"), full_page=True)
    page.locator("button[type=submit]", has_text=re.compile(".")).last.tap()
    page.wait_for_url(re.compile(r"/rapportera/tack/$"))
    page.screenshot(path=str(artifacts / "report-2-check-email.png"))

    assert wait_for(lambda: smtp.bodies_to("sara@example.org")), "no e-mail arrived"
    (body,) = smtp.bodies_to("sara@example.org")
    link = re.search(r"http://\S+/bekrafta/\S+/", body).group(0)
    assert link.startswith(base)
    page.goto(link)
    page.locator("form button[type=submit]").last.tap()
    page.wait_for_url(re.compile(r"/rapporter/\d+/$"))
    assert page.locator("h1").inner_text() == "Släckt gatlykta"
    assert "Malmö" in page.locator(".report-meta").inner_text()
    thumbnail = page.locator(".photos img")
    assert thumbnail.count() == 1
    assert page.evaluate(
        "img => img.complete && img.naturalWidth > 0", thumbnail.element_handle()
    )
    report_url = page.url
    # Malmö's inbox takes it: the dispatcher of the server (embedded) or of the
    # worker process (scaled) delivers, and the page says so, live or on load.
    page.locator("#report-sent").filter(
        has_text=re.compile(r"Skickad till Malmö kommun, ärende KP-\d+")
    ).wait_for(timeout=15_000)
    page.screenshot(path=str(artifacts / "report-3-page.png"), full_page=True)

    page.goto(f"{base}/rapporter/")
    page.locator(".report-marker").first.wait_for(timeout=10_000)
    assert page.locator(".report-marker").count() == 1
    link = page.locator("#report-list a", has_text="Släckt gatlykta")
    assert link.get_attribute("href") == report_url.removeprefix(base)
    page.screenshot(path=str(artifacts / "report-4-map.png"), full_page=True)
