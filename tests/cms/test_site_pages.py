"""Every site's own pages around the reports: the accessibility statement (in
DIGG's structure, linked from every page's footer, edited by the kommun's own
editors) and the error pages (in the visitor's language, with the site's
navigation and the kommun's name)."""

import re

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import clear_url_caches
from wagtail.admin.rich_text import get_rich_text_editor_widget
from wagtail.models import Site

from cms.models import AccessibilityStatementPage, SiteBranding
from municipalities.choices import StaffRole
from municipalities.models import Municipality
from tests.support.people import staff_user
from tests.support.photos import image_in

MALMO = "malmo.localhost"


@pytest.fixture
def swedish_default(settings):
    settings.LANGUAGE_CODE = "sv"
    clear_url_caches()
    yield
    clear_url_caches()


def _statement_of(host: str) -> AccessibilityStatementPage:
    site = Site.objects.get(hostname=host)
    return AccessibilityStatementPage.objects.child_of(site.root_page).get()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("host", "organisation"),
    [("localhost", "Knutpunkt"), (MALMO, "Malmö"), ("lund.localhost", "Lund")],
)
def test_every_site_has_a_statement_in_diggs_structure(
    client, swedish_default, host, organisation
):
    statement = _statement_of(host)
    assert statement.live and statement.organisation == organisation
    page = client.get("/tillganglighet/", HTTP_HOST=host)
    assert page.status_code == 200
    html = page.content.decode()
    headings = re.findall(r"<h[234][^>]*>([^<]+)</h[234]>", html)
    assert headings == [
        "Hur tillgänglig är webbplatsen?",
        "Vad kan du göra om du inte kan använda delar av webbplatsen?",
        "Rapportera brister i webbplatsens tillgänglighet",
        "Tillsyn",
        "Teknisk information om webbplatsens tillgänglighet",
        "Innehåll som inte är tillgängligt",
        "Bristande förenlighet med lagkraven",
        "Innehåll som inte omfattas av lagstiftningen",
        "Hur vi testat webbplatsen",
    ]
    assert f"{organisation} står bakom den här webbplatsen" in html
    assert "delvis förenlig med lagen om tillgänglighet" in html
    assert 'href="https://www.digg.se/tdosanmalan"' in html
    assert f'href="mailto:{statement.contact_email}"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/rapportera/", "/rapporter/", "/mina-sidor/", "/"])
def test_every_page_links_its_own_sites_statement(client, swedish_default, path):
    html = client.get(path, HTTP_HOST=MALMO).content.decode()
    assert '<a href="/tillganglighet/">Tillgänglighetsredogörelse</a>' in html
    english = client.get(f"/en{path}", HTTP_HOST=MALMO).content.decode()
    assert '<a href="/en/tillganglighet/">Accessibility statement</a>' in english


@pytest.mark.django_db
def test_the_kommuns_editors_and_no_one_elses_edit_the_statement(swedish_default):
    statement = _statement_of(MALMO)
    malmo_editor = staff_user("redaktor-malmo", "1280", StaffRole.EDITOR)
    lund_editor = staff_user("redaktor-lund", "1281", StaffRole.EDITOR)
    edit = f"/admin/pages/{statement.pk}/edit/"

    lund = Client()
    lund.force_login(lund_editor)
    assert lund.get(edit).status_code in (302, 403)

    malmo = Client()
    malmo.force_login(malmo_editor)
    form = malmo.get(edit)
    assert form.status_code == 200
    assert "E-post för tillgänglighetsfrågor" in form.content.decode()
    data = {
        "title": statement.title,
        "slug": statement.slug,
        "organisation": "Malmö stad",
        "compliance": "partial",
        "contact_email": "tillganglighet@malmo.se",
        "contact_phone": "040-34 10 00",
        "response_time": "två arbetsdagar",
        "non_compliant": statement.non_compliant,
        "disproportionate_burden": "",
        "outside_scope": "",
        "assessment": statement.assessment,
        "assessed_on": "2026-12-01",
        "site_published_on": "2026-11-01",
        "action-publish": "action-publish",
    }
    response = malmo.post(edit, _rich_text_as_posted(data))
    assert response.status_code == 302, response.content.decode()[:2000]
    html = Client().get("/tillganglighet/", HTTP_HOST=MALMO).content.decode()
    assert "Malmö stad står bakom den här webbplatsen" in html
    assert 'href="tel:040-341000"' in html
    assert "Vi svarar normalt inom två arbetsdagar." in html
    # Lund's statement is untouched.
    assert _statement_of("lund.localhost").organisation == "Lund"


def _rich_text_as_posted(data: dict) -> dict:
    """Wagtail's rich-text fields are posted in the editor's own JSON form."""
    widget = get_rich_text_editor_widget()
    for name in (
        "non_compliant",
        "disproportionate_burden",
        "outside_scope",
        "assessment",
    ):
        data[name] = widget.format_value(data[name] or "<p></p>")
    return data


@pytest.mark.django_db
def test_not_found_is_the_sites_own_page_in_its_language(client, swedish_default):
    response = client.get("/finns-inte/", HTTP_HOST=MALMO)
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="sv">' in html
    assert "Sidan kunde inte hittas" in html
    assert "Malmö · Knutpunkt" in html
    assert 'href="/rapportera/"' in html and "Tillgänglighetsredogörelse" in html

    english = client.get("/en/finns-inte/", HTTP_HOST=MALMO)
    assert english.status_code == 404
    html = english.content.decode()
    assert '<html lang="en">' in html and "The page could not be found" in html
    assert 'href="/en/rapportera/"' in html


@pytest.mark.django_db
def test_a_failing_view_answers_the_sites_own_500(settings, swedish_default):
    settings.ROOT_URLCONF = "tests.cms.urls_failing"
    clear_url_caches()
    client = Client(raise_request_exception=False)
    response = client.get("/fel/", HTTP_HOST=MALMO)
    assert response.status_code == 500
    html = response.content.decode()
    assert '<html lang="sv">' in html
    assert "Något gick fel hos oss" in html
    assert "Malmö · Knutpunkt" in html
    english = client.get("/en/fel/", HTTP_HOST=MALMO).content.decode()
    assert (
        '<html lang="en">' in english and "Something went wrong on our side" in english
    )


@pytest.mark.django_db
def test_a_form_without_its_token_gets_the_sites_own_page(swedish_default):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/rapportera/", {"title": "Hål i vägen"}, HTTP_HOST=MALMO)
    assert response.status_code == 403
    html = response.content.decode()
    assert '<html lang="sv">' in html and "Formuläret kunde inte skickas" in html
    assert Municipality.objects.get(code="1280").name in html


@pytest.mark.django_db
def test_the_main_menu_follows_show_in_menus_and_pages_say_where_they_are(client):
    from cms.models import ContentPage
    from municipalities.models import Municipality

    home = Municipality.objects.get(code="1280").site.root_page
    about = home.add_child(
        instance=ContentPage(title="Om felanmälan", slug="om", show_in_menus=True)
    )
    about.add_child(instance=ContentPage(title="Så handläggs din anmälan", slug="sa"))
    home.add_child(instance=ContentPage(title="Gömd sida", slug="gomd"))
    home.add_child(
        instance=ContentPage(
            title="Utkast i menyn", slug="utkast", live=False, show_in_menus=True
        )
    )

    report_form = client.get(
        "/rapportera/", HTTP_HOST="malmo.localhost"
    ).content.decode()
    assert "Om felanmälan" in report_form  # on every page of the site
    assert "Gömd sida" not in report_form and "Utkast i menyn" not in report_form
    lund = client.get("/rapportera/", HTTP_HOST="lund.localhost").content.decode()
    assert "Om felanmälan" not in lund

    nested = client.get("/om/sa/", HTTP_HOST="malmo.localhost")
    html = nested.content.decode()
    crumbs = html.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert crumbs.index("Om felanmälan") < crumbs.index("Så handläggs din anmälan")
    assert 'aria-current="page">Så handläggs din anmälan' in crumbs
    about_page = client.get("/om/", HTTP_HOST="malmo.localhost").content.decode()
    assert 'aria-current="page">Om felanmälan</a>' in about_page.split("site-nav")[1]


@pytest.mark.django_db
def test_the_site_search_finds_its_own_sites_live_pages(client):
    from wagtail.rich_text import RichText

    from cms.models import ContentPage
    from municipalities.models import Municipality

    def page_in(code, title, body, live=True):
        home = Municipality.objects.get(code=code).site.root_page
        return home.add_child(
            instance=ContentPage(
                title=title,
                slug=title.lower().replace(" ", "-"),
                body=[("text", RichText(body))],
                live=live,
            )
        )

    page_in("1280", "Vintervaghallning", "<p>Snoröjningen sker enligt plan.</p>")
    page_in("1280", "Utkast om snö", "<p>Snoröjningen i utkastet.</p>", live=False)
    page_in("1281", "Lunds vinter", "<p>Snoröjningen i Lund.</p>")

    found = client.get("/sok/", {"q": "snoröjningen"}, HTTP_HOST=MALMO)
    html = found.content.decode()
    assert found.status_code == 200
    assert "Vintervaghallning" in html
    assert "Utkast om snö" not in html and "Lunds vinter" not in html
    nothing = client.get("/sok/", {"q": "x" * 500}, HTTP_HOST=MALMO)
    main = nothing.content.decode().split("<main")[1]
    assert nothing.status_code == 200 and "x" * 201 not in main  # at most 200 read
    assert client.get("/sok/", HTTP_HOST=MALMO).status_code == 200
    assert (
        'href="/sok/"' in client.get("/rapportera/", HTTP_HOST=MALMO).content.decode()
    )


def _error_responses(client, settings) -> dict:
    """Each error page of Malmö's site, as a visitor meets it."""
    settings.ROOT_URLCONF = "tests.cms.urls_failing"
    clear_url_caches()
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "my_reports_link": (0, 60),
    }
    failing = Client(raise_request_exception=False)
    strict = Client(enforce_csrf_checks=True)
    fields = {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    return {
        400: client.post("/rapportera/", fields, HTTP_HOST=MALMO),
        403: strict.post("/rapportera/", {"title": "Hål"}, HTTP_HOST=MALMO),
        404: client.get("/finns-inte/", HTTP_HOST=MALMO),
        429: client.post(
            "/mina-sidor/",
            {"email": "anna@example.org"},
            HTTP_HOST=MALMO,
            HTTP_ACCEPT="text/html",
        ),
        500: failing.get("/fel/", HTTP_HOST=MALMO),
    }


@pytest.mark.django_db
def test_every_error_page_of_a_kommun_site_shows_its_brand(client, settings):
    site = Site.objects.get(hostname=MALMO)
    branding = SiteBranding.for_site(site)
    branding.logo = image_in("1280", "malmos-logga")
    branding.brand_colour = "#6b0f1a"
    branding.contact_phone = "040-34 10 00"
    branding.full_clean()
    branding.save()
    stylesheet = f"/brand.css?v={branding.stylesheet_version}"

    for status, response in _error_responses(client, settings).items():
        assert response.status_code == status
        html = response.content.decode()
        assert 'class="brand-logo"' in html and "malmos-logga" in html, status
        assert stylesheet in html, status
        assert "Malmö · Knutpunkt" in html and "040-34 10 00" in html, status

    lund = client.get("/finns-inte/", HTTP_HOST="lund.localhost").content.decode()
    assert "brand-logo" not in lund and stylesheet not in lund
    assert "Lund · Knutpunkt" in lund


def _database_down(execute, sql, params, many, context):
    raise OperationalError("the database is not answering")


@pytest.mark.django_db
def test_without_the_database_the_500_is_the_plain_page(settings):
    settings.ROOT_URLCONF = "tests.cms.urls_failing"
    clear_url_caches()
    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(_database_down):
        response = client.get("/fel/", HTTP_HOST=MALMO)
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "/brand.css" not in html and "Malmö" not in html
    # The security headers still go out, without the site's own tiles.
    assert "img-src 'self' data: blob:" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_menu_cannot_loop_a_page_under_its_own_child():
    """The menu follows the page tree, and the tree refuses a loop: moving a
    page under one of its own pages is refused and changes nothing."""
    from cms.models import ContentPage  # beside the other tests' page imports

    home = Municipality.objects.get(code="1280").site.root_page
    about = home.add_child(
        instance=ContentPage(title="Om", slug="om-loop", show_in_menus=True)
    )
    child = about.add_child(instance=ContentPage(title="Under", slug="under"))
    editor = Client()
    editor.force_login(staff_user("malmo-flyttar", "1280", StaffRole.EDITOR))
    move = f"/admin/pages/{about.pk}/move/{child.pk}/confirm/"
    refused = editor.post(move)
    # Wagtail refuses it as not permitted, back to the dashboard.
    assert refused.status_code == 302 and refused["Location"] == "/admin/"
    about.refresh_from_db()
    assert about.get_parent().pk == home.pk
    assert child.specific.get_parent().pk == about.pk
    # Moving it elsewhere in the same site works: the refusal is the loop's.
    other = home.add_child(instance=ContentPage(title="Annan", slug="annan"))
    assert (
        editor.post(f"/admin/pages/{about.pk}/move/{other.pk}/confirm/").status_code
        == 302
    )
    about.refresh_from_db()
    assert about.get_parent().pk == other.pk
