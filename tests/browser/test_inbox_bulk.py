"""A kommun administrator works several reports at once by keyboard, in Swedish:
ticks every report on the inbox's page with the header's box, changes their
status from the action bar, saves the filters, and finds the changes in the
audit log."""

import json
import re

import pytest
from playwright.sync_api import expect

from devkit.instance import free_port, profile_env, running_site, shell
from tests.support.twofactor import totp_now

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_bulk_status_change_by_keyboard_and_the_audit_log(browser, artifacts, tmp_path):
    port = free_port()
    var = tmp_path / "var"
    with (
        profile_env(
            var,
            KNUTPUNKT_TILE_URL=f"http://127.0.0.1:{port}/no-tiles/{{z}}/{{x}}/{{y}}.png",
        ) as env,
        running_site(env, port),
    ):
        ids = shell(
            env,
            "from tests.support.casework import make_report; "
            "print(*[make_report('1280', title=f'Bulktest {n}').pk for n in (1, 2)])",
        )
        assert len(ids) == 2
        accounts = {
            a["username"]: a["password"]
            for a in json.loads((var / "demo-accounts.json").read_text())
        }
        context = browser.new_context(locale="sv-SE")
        page = context.new_page()
        base = f"http://localhost:{port}"
        page.goto(f"{base}/admin/login/")
        page.locator("#id_username").fill("malmo-admin")
        page.locator("#id_password").fill(accounts["malmo-admin"])
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/admin/two-factor/enrol/"))
        secret = page.locator(".staffauth-secret").inner_text()
        page.locator("#id_code").fill(totp_now(secret))
        page.keyboard.press("Enter")
        page.get_by_role("link", name="Fortsätt").click()
        expect(page).to_have_url(re.compile(r"/admin/$"))

        page.goto(f"{base}/admin/inbox/?q=Bulktest")
        expect(page.locator("#inbox-bulk-panel")).not_to_have_attribute("open", "")
        every = page.get_by_label("Välj alla felanmälningar på sidan")
        every.focus()
        page.keyboard.press("Space")
        items = page.locator('input[name="reports"]')
        expect(items).to_have_count(2)
        for n in range(2):
            expect(items.nth(n)).to_be_checked()
        # Folded away until reports are ticked.
        expect(page.locator("#inbox-bulk-panel")).to_have_attribute("open", "")
        page.get_by_label("Ny status").select_option("in_progress")
        page.get_by_label("Offentligt svar (valfritt)").fill("Vi har börjat.")
        page.get_by_role("button", name="Ändra status").focus()
        page.keyboard.press("Enter")
        expect(page.locator(".messages")).to_contain_text("2 felanmälningar ändrades.")
        assert page.url.endswith("/admin/inbox/?q=Bulktest")
        page.screenshot(path=str(artifacts / "inbox-bulk.png"), full_page=True)

        page.get_by_text("Spara de här filtren", exact=True).click()
        page.get_by_label("Spara de här filtren som").fill("Bulktest")
        page.keyboard.press("Enter")
        expect(page.locator(".messages")).to_contain_text("Filtren sparades")
        expect(page.get_by_role("link", name="Bulktest", exact=True)).to_have_attribute(
            "href", "/admin/inbox/?q=Bulktest"
        )

        page.goto(f"{base}/admin/audit-log/")
        rows = page.locator("main table tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("Ändrade en felanmälans status")
        expect(rows.first).to_contain_text("Status: Öppen → Pågår")
        page.screenshot(path=str(artifacts / "audit-log.png"), full_page=True)
        context.close()
