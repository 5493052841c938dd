"""Staff sign in by keyboard, in Swedish: a lockout after wrong passwords, a kommun
administrator setting up two-factor sign-in, and a case handler signing in with
Malmö's own account (a loopback OpenID Connect provider)."""

import json
import re

import pytest
from playwright.sync_api import expect

from devkit.instance import free_port, profile_env, running_site
from devkit.servers import OIDCProvider
from tests.support.twofactor import totp_now

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_staff_sign_in_pages(browser, artifacts, tmp_path):
    port = free_port()
    var = tmp_path / "var"
    with (
        OIDCProvider(client_id="knutpunkt", client_secret="hemligt") as provider,
        profile_env(
            var,
            KNUTPUNKT_TILE_URL=f"http://127.0.0.1:{port}/no-tiles/{{z}}/{{x}}/{{y}}.png",
            WAGTAILADMIN_BASE_URL=f"http://localhost:{port}",
            KNUTPUNKT_STAFF_OIDC=json.dumps(
                {
                    "malmo": {
                        "issuer": provider.issuer,
                        "client_id": "knutpunkt",
                        "client_secret": "hemligt",
                        "email_domains": ["example.org"],
                    }
                }
            ),
        ) as env,
        running_site(env, port),
    ):
        accounts = {
            a["username"]: a["password"]
            for a in json.loads((var / "demo-accounts.json").read_text())
        }
        context = browser.new_context(locale="sv-SE")
        page = context.new_page()
        login = f"http://localhost:{port}/admin/login/"

        # The sign-in page, with the kommun's button.
        page.goto(login)
        button = page.get_by_role("link", name="Logga in med Malmö kommuns konto")
        expect(button).to_be_visible()
        page.screenshot(path=str(artifacts / "staff-login.png"), full_page=True)

        # Five wrong passwords pause the account here; the right one is refused.
        statuses = []
        for password in ["fel-lösenord"] * 5 + [accounts["malmo-kundcenter"]]:
            page.goto(login)
            page.locator("#id_username").fill("malmo-kundcenter")
            page.locator("#id_password").fill(password)
            with page.expect_navigation() as answer:
                page.keyboard.press("Enter")
            statuses.append(answer.value.status)
        assert statuses == [200, 200, 200, 200, 429, 429]
        expect(page.locator(".messages")).to_contain_text(
            "För många misslyckade inloggningsförsök"
        )
        assert page.url == login
        page.screenshot(path=str(artifacts / "staff-lockout.png"), full_page=True)

        # A kommun administrator must set up two-factor sign-in first.
        page.goto(login)
        page.locator("#id_username").fill("malmo-admin")
        page.locator("#id_password").fill(accounts["malmo-admin"])
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/admin/two-factor/enrol/"))
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Slå på tvåstegsinloggning"
        )
        assert "/admin/two-factor/enrol/" in page.url
        expect(page.locator(".staffauth-qr svg")).to_be_visible()
        page.screenshot(path=str(artifacts / "staff-enrol.png"), full_page=True)
        secret = page.locator(".staffauth-secret").inner_text()
        page.locator("#id_code").fill(totp_now(secret))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Tvåstegsinloggning är påslagen"
        )
        codes = page.locator(".staffauth-codes code").all_inner_texts()
        assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{8}", c) for c in codes)
        page.screenshot(path=str(artifacts / "staff-backup-codes.png"), full_page=True)
        page.get_by_role("link", name="Fortsätt").click()
        expect(page).to_have_url(re.compile(r"/admin/$"))
        # Their own settings: on, and required, so no way to turn it off.
        page.goto(f"http://localhost:{port}/admin/two-factor/")
        expect(page.locator("main")).to_contain_text("kan inte stängas av")
        expect(
            page.get_by_role("button", name="Stäng av tvåstegsinloggning")
        ).to_have_count(0)
        page.screenshot(path=str(artifacts / "staff-two-factor-settings.png"))
        context.close()

        # A case handler signs in with Malmö's own account.
        provider.user = {"sub": "malmo-1", "email": "malmo-handlaggare@example.org"}
        context = browser.new_context(locale="sv-SE")
        page = context.new_page()
        page.goto(login)
        page.get_by_role("link", name="Logga in med Malmö kommuns konto").click()
        expect(page).to_have_url(re.compile(r"/admin/$"))
        assert "/token" in provider.requests
        page.screenshot(path=str(artifacts / "staff-oidc-signed-in.png"))
        context.close()
