"""A contact-centre agent files a caller's report in the admin, putting the pin on
the map, and the report goes to the demo's case system for Malmö's street
department, whose updates bring it to "fixed" on its public page; the form's page
keeps to its Content Security Policy."""

import re

import pytest
from playwright.sync_api import expect

from devkit.instance import free_port, profile_env, running_site, shell

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "kundcenter-test-password-1"  # noqa: S105 (a throwaway instance's account)


def test_an_agent_files_a_callers_report_that_the_street_department_fixes(
    browser, artifacts, tmp_path
):
    port = free_port()
    with (
        profile_env(
            tmp_path / "var",
            # No traffic leaves the machine: tiles come from our own server (and 404).
            KNUTPUNKT_TILE_URL=f"http://127.0.0.1:{port}/no-tiles/{{z}}/{{x}}/{{y}}.png",
            KNUTPUNKT_DEMO_IN_PROGRESS_AFTER_SECONDS="1",
            KNUTPUNKT_DEMO_FIXED_AFTER_SECONDS="2",
            KNUTPUNKT_DELIVERY_POLL_UPDATES_SECONDS="1",
        ) as env,
        running_site(env, port),
    ):
        shell(
            env,
            "from django.contrib.auth import get_user_model; "
            "u = get_user_model().objects.get(username='malmo-kundcenter'); "
            f"u.set_password('{PASSWORD}'); u.save(); print('ok')",
        )
        context = browser.new_context(locale="sv-SE")
        violations = []

        def remember(message):
            text = message.text
            if "Content Security Policy" in text or "Refused to" in text:
                violations.append(text)

        context.on("console", remember)
        page = context.new_page()
        base = f"http://localhost:{port}"
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", "malmo-kundcenter")
        page.fill("#id_password", PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_url(f"{base}/admin/")

        page.goto(f"{base}/admin/inbox/")
        page.get_by_role("link", name="Ny anmälan för en inringare").click()
        expect(page).to_have_url(f"{base}/admin/inbox/new/")
        # The pin on the map fills in the coordinates.
        map_ = page.locator("#caller-map")
        expect(map_).to_be_visible()
        map_.click()
        expect(page.locator("#id_lat")).not_to_have_value("")
        expect(page.locator("#id_lon")).not_to_have_value("")
        # Typed coordinates (Stortorget) move the pin.
        page.fill("#id_lat", "55.6059")
        page.fill("#id_lon", "13.0007")
        page.locator("#id_lon").press("Tab")
        page.select_option("#id_category", "vagar-ovriga")
        page.fill("#id_title", "Potthål vid torget")
        page.fill("#id_description", "Djupt hål i körbanan, ringde in.")
        page.fill("#id_caller_name", "Greta Persson")
        page.fill("#id_caller_phone", "040-55 55 55")
        expect(page.locator("input[name=channel][value=phone]")).to_be_checked()
        page.screenshot(path=str(artifacts / "caller-report-form.png"), full_page=True)
        page.locator("button[type=submit]", has_text="Registrera felanmälan").click()
        expect(page).to_have_url(re.compile(r"/admin/inbox/\d+/$"))
        page.screenshot(path=str(artifacts / "caller-report-sent.png"), full_page=True)
        report_id = int(re.search(r"/inbox/(\d+)/$", page.url).group(1))
        expect(page.locator("main")).to_contain_text("Telefon")

        page.goto(f"{base}/rapporter/{report_id}/")
        expect(page.locator("#timeline")).to_contain_text(
            "Registrerad av kontaktcenter per telefon"
        )
        page.reload()
        expect(page.locator("#report-status")).to_have_text("Åtgärdad", timeout=30_000)
        page.screenshot(path=str(artifacts / "caller-report-fixed.png"), full_page=True)
        assert violations == []
        context.close()
