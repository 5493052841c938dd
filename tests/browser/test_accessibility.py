"""axe-core finds no WCAG 2.1 A/AA violation on any citizen page, in Swedish and in
English, in every state a citizen meets: the report form before a pin, with the
kommun's categories, with validation errors (with and without JavaScript; on
Malmö's site with its own brand, map tiles and start view), the
place search without JavaScript, the thanks and confirmation pages, a report
page, the map and its list, the statistics (a kommun's, the nation's, a wrong
period), every state of Mina sidor, following, the content
pages and the error pages.

axe-core comes with the axe-playwright-python package (nothing is downloaded at
test time). Each state is built by using the site as a citizen does, against a
real instance with a loopback geocoder and SMTP server."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from devkit.instance import free_port, profile_env, running_site, shell, wait_for
from devkit.servers import NominatimServer, SMTPServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PLACES = [
    {"name": "Stortorget, Malmö, Skåne län, Sverige", "lat": 55.6059, "lon": 13.0007}
]
AXE = Axe()
PROMISES = """
from municipalities.models import Category, Municipality, ServicePromise
malmo = Municipality.objects.get(code="1280")
lamp = Category.objects.get(slug="gatubelysning")
for category, days in ((None, (2, 10)), (lamp, (1, 5))):
    ServicePromise.objects.update_or_create(
        municipality=malmo,
        category=category,
        defaults={"response_days": days[0], "fix_days": days[1]},
    )
print("ok")
"""
# Malmö's site draws its maps on tiles of its own (nothing answers there, as for
# the platform's) from a start view of its own: its pages are checked so.
SITE_MAP = """
from cms.models import SiteBranding
from municipalities.models import Municipality
branding = SiteBranding.for_site(Municipality.objects.get(code="1280").site)
branding.tile_url = "https://127.0.0.1:PORT/no-site-tiles/{z}/{x}/{y}.png"
branding.tile_attribution = "© Malmö stad"
branding.map_latitude, branding.map_longitude, branding.map_zoom = 55.6059, 13.0007, 14
branding.full_clean()
branding.save()
print("ok")
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One running instance for every state (setting one up is the slow part)."""
    port = free_port()
    var = tmp_path_factory.mktemp("a11y") / "var"
    with (
        SMTPServer() as smtp,
        NominatimServer(PLACES) as nominatim,
        profile_env(
            var,
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp.port),
            KNUTPUNKT_GEOCODER_DOMAIN=nominatim.domain,
            KNUTPUNKT_GEOCODER_SCHEME="http",
            KNUTPUNKT_TILE_URL=f"http://127.0.0.1:{port}/no-tiles/{{z}}/{{x}}/{{y}}.png",
            # The site's own error pages, not Django's debugging ones.
            DJANGO_DEBUG="0",
        ) as env,
        running_site(env, port),
    ):
        # Malmö's service promises, so that the form, the report page and the
        # promises pages are checked with them.
        shell(env, PROMISES)
        shell(env, SITE_MAP.replace("PORT", str(port)))
        yield {"port": port, "smtp": smtp}


class Audit:
    """Runs axe on each state and keeps what it found, with where."""

    def __init__(self, artifacts, language: str):
        self.artifacts = artifacts
        self.language = language
        self.found: list[str] = []
        self.states: list[str] = []

    def check(self, page, state: str) -> None:
        page.wait_for_load_state("load")
        results = AXE.run(
            page,
            options={"runOnly": {"type": "tag", "values": WCAG_AA}},
        )
        self.states.append(state)
        name = f"a11y-{self.language}-{re.sub(r'[^a-z0-9]+', '-', state.lower())}"
        page.screenshot(path=str(self.artifacts / f"{name}.png"), full_page=True)
        for violation in results.response["violations"]:
            for node in violation["nodes"]:
                self.found.append(
                    f"{state} ({page.url}): {violation['id']} at"
                    f" {node['target']}: {node['failureSummary']}"
                )


def _prefix(language: str) -> str:
    return "" if language == "sv" else "/en"


def _mail_link(smtp, address: str, pattern: str, seen: int) -> str:
    assert wait_for(lambda: len(smtp.bodies_to(address)) > seen), "no e-mail came"
    return re.search(pattern, smtp.bodies_to(address)[seen]).group(0)


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_citizen_page_passes_axe(site, browser, artifacts, language):
    port, smtp = site["port"], site["smtp"]
    national = f"http://localhost:{port}{_prefix(language)}"
    malmo = f"http://malmo.localhost:{port}{_prefix(language)}"
    email = f"a11y-{language}@example.org"
    audit = Audit(artifacts, language)
    locale = "sv-SE" if language == "sv" else "en-GB"

    scripted = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale=locale,
    )
    page = scripted.new_page()
    page.goto(f"{national}/")
    audit.check(page, "national home")
    page.goto(f"{malmo}/")
    audit.check(page, "kommun home")
    page.goto(f"{malmo}/nyheter/")
    audit.check(page, "the kommun's news")
    with page.expect_navigation():
        page.locator(".news-list a").first.click()
    assert page.locator("figure img[alt]").count() == 1
    audit.check(page, "a news item")
    page.goto(f"{malmo}/om/")
    assert page.locator(".block-contact").count() == 1
    audit.check(page, "a content page")

    page.goto(f"{malmo}/rapportera/")
    page.locator("#map").wait_for()
    assert "no-site-tiles" in page.locator("#map").get_attribute("data-tiles")
    audit.check(page, "form before a pin")
    page.locator("#map").tap()
    page.locator("#responsibility strong", has_text="Malmö").wait_for()
    audit.check(page, "form with categories")
    page.locator("#report-form button[type=submit]").last.tap()
    page.locator(".field-error:not(:empty)").first.wait_for()
    audit.check(page, "form with errors (JavaScript)")

    page.goto(f"{malmo}/rapportera/")
    page.locator("#map").tap()
    page.locator("#responsibility strong", has_text="Malmö").wait_for()
    page.locator("input[name=category][value=gatubelysning]").check()
    page.locator("input[name=title]").fill("Släckt gatlykta")
    page.locator("textarea[name=description]").fill("Lyktan är släckt.")
    page.locator("input[name=name]").fill("Sara Svensson")
    page.locator("input[name=email]").fill(email)
    page.locator("#report-form button[type=submit]").last.tap()
    page.wait_for_url(re.compile(r"/rapportera/tack/$"))
    audit.check(page, "thanks")
    page.goto(_mail_link(smtp, email, r"http://\S+/bekrafta/\S+/", 0))
    audit.check(page, "confirmation")
    page.locator("form button[type=submit]").last.tap()
    page.wait_for_url(re.compile(r"/rapporter/\d+/$"))
    report_url = page.url
    audit.check(page, "report page")

    page.locator("input[name=email]").fill(f"follower-{email}")
    with page.expect_navigation():
        page.locator(".follow button[type=submit]").tap()
    audit.check(page, "report page after follow")
    page.goto(
        _mail_link(smtp, f"follower-{email}", r"http://\S+/folj/bekrafta/\S+/", 0)
    )
    audit.check(page, "follow confirmation")

    page.goto(f"{malmo}/rapporter/")
    page.locator("#report-list a").first.wait_for(timeout=10_000)
    audit.check(page, "map and list")

    page.goto(f"{malmo}/statistik/")
    audit.check(page, "statistics of the kommun")
    page.goto(f"{national}/statistik/")
    audit.check(page, "statistics of the nation")
    page.goto(f"{malmo}/statistik/?from=2026-05-01&to=2026-04-01")
    page.locator("#id_to_error").wait_for()
    audit.check(page, "statistics, a period ending before it begins")

    page.goto(f"{malmo}/mina-sidor/")
    audit.check(page, "Mina sidor, asking for a link")
    page.locator("input[name=email]").fill(email)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").tap()
    audit.check(page, "Mina sidor, link sent")
    link = _mail_link(smtp, email, r"http://\S+/mina-sidor/lank/\S+/", 1)
    page.goto(link)
    audit.check(page, "Mina sidor, opening the link")
    page.locator("main form button[type=submit]").click()
    page.locator("#my-reports").wait_for()
    audit.check(page, "Mina sidor, the reports")
    page.goto(link)
    audit.check(page, "Mina sidor, a used link")
    page.goto(f"{malmo}/avfolj/not-a-token/")
    audit.check(page, "a broken unsubscribe link")

    page.goto(f"{malmo}/tillganglighet/")
    audit.check(page, "accessibility statement")
    page.goto(f"{malmo}/servicelofte/")
    audit.check(page, "the kommun's service promises")
    page.goto(f"{national}/servicelofte/")
    audit.check(page, "every kommun's service promises")
    page.goto(f"{malmo}/sok/?q=tillganglighet")
    audit.check(page, "the site's search")
    assert page.goto(f"{malmo}/finns-inte/").status == 404
    assert page.locator("h1").inner_text() == (
        "Sidan kunde inte hittas" if language == "sv" else "The page could not be found"
    )
    audit.check(page, "not found")
    # A form that comes without its CSRF token (from another page) is refused.
    page.set_content(
        f'<form method="post" action="{malmo}/rapportera/"><button>Skicka</button></form>'
    )
    with page.expect_navigation():
        page.locator("button").click()
    assert page.locator("h1").inner_text() == (
        "Formuläret kunde inte skickas"
        if language == "sv"
        else "The form could not be sent"
    )
    audit.check(page, "form refused (CSRF)")
    scripted.close()

    # Without JavaScript: no script of ours runs (axe itself is injected by the
    # browser's debugging protocol, which a disabled engine would not answer).
    plain = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale)
    plain.route(re.compile(r".*\.js(\?.*)?$"), lambda route: route.abort())
    page = plain.new_page()
    page.goto(f"{national}/rapportera/")
    audit.check(page, "form without JavaScript")
    page.locator("input[name=q]").fill("Stortorget")
    with page.expect_navigation():
        page.locator("input[name=q]").press("Enter")
    audit.check(page, "place search results without JavaScript")
    with page.expect_navigation():
        page.locator("#place-results a", has_text="Stortorget").click()
    audit.check(page, "form with categories without JavaScript")
    with page.expect_navigation():
        page.locator("#report-form button[type=submit]").last.click()
    audit.check(page, "form with errors without JavaScript")
    page.goto(report_url)
    audit.check(page, "report page without JavaScript")
    plain.close()

    assert not audit.found, "\n".join(audit.found)
    assert len(audit.states) == 34


def test_the_first_tab_offers_a_skip_to_the_content(site, browser):
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    page.goto(f"http://malmo.localhost:{site['port']}/rapportera/")
    skip = page.locator(".skip-link")
    assert not skip.is_visible() or skip.bounding_box()["y"] < 0
    page.keyboard.press("Tab")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.inner_text() == "Hoppa till huvudinnehållet"
    assert skip.bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    # The next Tab goes into the content, past the header and the menu.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('main') !== null")
    context.close()
