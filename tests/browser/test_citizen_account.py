"""A citizen on a phone reports a dark street light without an account, then
signs up (confirming by the e-mailed link), finds the report on Mina sidor,
downloads their data as JSON, and erases it; the report stays public without
them."""

import json
import re
from pathlib import Path

import pytest

from devkit.instance import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "sara@example.org"


def link_in(smtp, pattern: str) -> str | None:
    for body in smtp.bodies_to(EMAIL):
        found = re.search(r"http://\S+" + pattern + r"\S+/", body)
        if found:
            return found.group(0)
    return None


def test_sign_up_see_my_report_export_and_erase(phone, artifacts, mailed_site):
    base = mailed_site.url()
    smtp = mailed_site.smtp
    page = phone.new_page()
    # A report without an account, confirmed by its e-mailed link.
    page.goto(f"{base}/rapportera/")
    page.locator("#map").tap()
    page.locator("#responsibility strong", has_text="Malmö").wait_for()
    page.get_by_label("Gatubelysning").check()
    page.locator("input[name=title]").fill("Släckt gatlykta")
    page.locator("textarea[name=description]").fill("Släckt i tre kvällar.")
    page.locator("input[name=name]").fill("Sara Svensson")
    page.locator("input[name=email]").fill(EMAIL)
    page.locator("button[type=submit]", has_text=re.compile(".")).last.tap()
    page.wait_for_url(re.compile(r"/rapportera/tack/$"))
    assert wait_for(lambda: link_in(smtp, "/bekrafta/")), "no confirmation"
    page.goto(link_in(smtp, "/bekrafta/"))
    page.locator("form button[type=submit]").last.tap()
    page.wait_for_url(re.compile(r"/rapporter/\d+/$"))
    report_path = page.url.removeprefix(base)

    # Mina sidor's sign-in leads to the public pages, and on to sign-up.
    page.goto(f"{base}/mina-sidor/")
    page.locator("#sign-in").tap()
    page.wait_for_url(re.compile(r"/konto/logga-in/$"))
    page.locator("a[href='/konto/skapa/']").first.tap()
    page.wait_for_url(re.compile(r"/konto/skapa/$"))
    page.locator("input[name=email]").fill(EMAIL)
    page.locator("input[name=name]").fill("Sara Svensson")
    page.screenshot(path=str(artifacts / "account-1-sign-up.png"), full_page=True)
    page.locator("button[type=submit].primary").tap()
    page.locator("#link-sent").wait_for()
    assert wait_for(lambda: link_in(smtp, "/konto/skapa/")), "no sign-up link"
    page.goto(link_in(smtp, "/konto/skapa/"))
    page.locator("#use-link").tap()
    page.wait_for_url(re.compile(r"/konto/$"))
    assert EMAIL in page.locator("#account-email").inner_text()
    page.screenshot(path=str(artifacts / "account-2-account.png"), full_page=True)

    # The report made before the account is on Mina sidor.
    page.goto(f"{base}/mina-sidor/")
    mine = page.locator("#my-reports a", has_text="Släckt gatlykta")
    assert mine.get_attribute("href") == report_path
    page.screenshot(path=str(artifacts / "account-3-my-reports.png"), full_page=True)

    # My data: readable, and as JSON.
    page.goto(f"{base}/mina-data/")
    assert "Släckt gatlykta" in page.locator("#my-data-reports").inner_text()
    page.screenshot(path=str(artifacts / "account-4-my-data.png"), full_page=True)
    with page.expect_download() as download:
        page.locator("#download-json").tap()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    (exported,) = data["reports"]
    assert exported["title"] == "Släckt gatlykta"
    assert (exported["name"], exported["email"]) == ("Sara Svensson", EMAIL)

    # Erase: the report stays public, without her.
    page.locator("input[name=confirm]").check()
    page.locator("#erase").tap()
    page.locator("#erased").wait_for()
    page.screenshot(path=str(artifacts / "account-5-erased.png"), full_page=True)
    page.goto(f"{base}/mina-sidor/")
    assert page.locator("#sign-in").count() == 1  # signed out
    page.goto(f"{base}{report_path}")
    assert page.locator("h1").inner_text() == "Släckt gatlykta"
    assert "Sara" not in page.content()
