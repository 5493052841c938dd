"""The Wagtail admin works under its Content Security Policy: an editor signs
in, opens the dashboard, edits and saves a page, uploads an image, opens a
report's screen with its map and the inbox's map, draws an area on it to
filter the list, and the browser reports no
violation of the policy on the way."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from config.security import admin_policy
from devkit.instance import free_port, profile_env, running_site, shell
from tests.support.twofactor import totp_now

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "csp-test-password-1"  # noqa: S105 (a throwaway instance's account)


def test_the_admin_works_with_no_policy_violation(browser, artifacts, tmp_path):
    port = free_port()
    with (
        profile_env(
            tmp_path / "var",
            KNUTPUNKT_TILE_URL=f"http://127.0.0.1:{port}/no-tiles/{{z}}/{{x}}/{{y}}.png",
        ) as env,
        running_site(env, port),
    ):
        page_id, report_id = shell(
            env,
            "from django.contrib.auth import get_user_model; "
            "from wagtail.models import Page; "
            "from municipalities.models import Category; "
            "from reports.services import Reporter, report_submit; "
            "editor = get_user_model().objects.create_superuser("
            f"'csp-editor', 'csp-editor@example.org', '{PASSWORD}'); "
            "report = report_submit(lat=55.605, lon=13.0038, "
            "category=Category.objects.get(slug='gatubelysning'), "
            "title='Lampan blinkar', description='Hela natten.', "
            "reporter=Reporter(name='Anna', email='anna@example.org', user=editor)); "
            "print(Page.objects.filter(depth=2).first().pk, report.pk)",
        )
        context = browser.new_context(locale="sv-SE")
        violations = []

        def remember(message):
            text = message.text
            if "Content Security Policy" in text or "Refused to" in text:
                violations.append(f"{message.page.url if message.page else ''}: {text}")

        context.on("console", remember)
        page = context.new_page()
        base = f"http://localhost:{port}"

        login = page.goto(f"{base}/admin/login/")
        # The tiles' host is the one third party the admin may reach.
        tiles = f"http://127.0.0.1:{port}"
        assert login.headers["content-security-policy"] == admin_policy(tiles)
        page.fill("#id_username", "csp-editor")
        page.fill("#id_password", PASSWORD)
        page.locator("form button[type=submit]").click()
        # A superuser sets up two-factor sign-in first: those pages too keep
        # to the policy (the QR code is drawn inline).
        page.wait_for_url(re.compile(r"/admin/two-factor/enrol/"))
        expect(page.locator(".staffauth-qr svg")).to_be_visible()
        secret = page.locator(".staffauth-secret").inner_text()
        page.locator("#id_code").fill(totp_now(secret))
        page.locator("#id_code").press("Enter")
        expect(page.locator(".staffauth-codes code").first).to_be_visible()
        page.locator("main a", has_text="Fortsätt").click()
        page.wait_for_url(f"{base}/admin/")
        # The dashboard: its sidebar is drawn by the admin's scripts.
        expect(page.locator("nav.sidebar-main-menu")).to_be_visible()

        # A page editor: change the title and save a draft.
        page.goto(f"{base}/admin/pages/{page_id}/edit/")
        title = page.locator("#id_title")
        expect(title).to_be_visible()
        title.fill(title.input_value() + " (ändrad)")
        page.get_by_role("button", name="Spara utkast").click()
        expect(page.locator(".messages .success")).to_be_visible(timeout=10_000)
        expect(title).to_have_value(re.compile(r"\(ändrad\)$"))
        page.screenshot(path=str(artifacts / "admin-csp-editor.png"), full_page=True)

        # An image upload, through the admin's script-driven multiple upload.
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), (30, 120, 200)).save(buffer, "PNG")
        page.goto(f"{base}/admin/images/multiple/add/")
        page.set_input_files(
            "#fileupload",
            files=[
                {
                    "name": "lykta.png",
                    "mimeType": "image/png",
                    "buffer": buffer.getvalue(),
                }
            ],
        )
        expect(page.locator("#upload-list li.upload-success")).to_have_count(
            1, timeout=15_000
        )
        page.screenshot(path=str(artifacts / "admin-csp-upload.png"), full_page=True)

        # A report's screen: its map asks the tile server for images.
        page.goto(f"{base}/admin/inbox/{report_id}/")
        tile = page.locator("#map .leaflet-tile-pane img").first
        expect(tile).to_be_attached(timeout=10_000)
        assert tile.get_attribute("src").startswith(f"{tiles}/no-tiles/")
        expect(page.locator("#map .leaflet-marker-icon")).to_have_count(1)
        page.screenshot(path=str(artifacts / "admin-csp-report.png"), full_page=True)
        # The inbox's map: Leaflet, its tiles and the reports' JSON.
        with page.expect_response(re.compile(r"/admin/inbox/map/reports/\?")) as found:
            page.goto(f"{base}/admin/inbox/map/")
        expect(page.locator("#reports-map.leaflet-container")).to_be_visible()
        assert found.value.status == 200
        page.screenshot(path=str(artifacts / "admin-csp-inbox-map.png"))
        # Draw an area around the report, corner by corner, and the list
        # shows the reports inside it.
        page.get_by_role("button", name="Rita ett område").click()
        expect(page.locator("#inbox-map-draw-status")).to_have_text(
            "Klicka där området börjar."
        )
        x, y = page.evaluate(
            "() => { const map = document.getElementById('reports-map').knutpunktMap;"
            " map.setView([55.605, 13.0038], 15, {animate: false});"
            " const p = map.latLngToContainerPoint([55.605, 13.0038]);"
            " return [p.x, p.y]; }"
        )
        corners = [(x - 80, y - 60), (x + 90, y - 50), (x + 10, y + 80)]
        for cx, cy in [*corners, corners[0]]:
            page.locator("#reports-map").click(position={"x": cx, "y": cy})
            # A person's clicks are apart: two clicks within the map's
            # double-click time would be one double click.
            page.wait_for_timeout(400)
        page.wait_for_url(re.compile(r"/admin/inbox/\?.*area=%7B"))
        expect(page.get_by_role("link", name="Lampan blinkar")).to_be_visible()
        page.screenshot(
            path=str(artifacts / "admin-csp-inbox-drawn.png"), full_page=True
        )
        context.close()
    assert violations == []
