import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, RequestFactory
from wagtail.models import Page, Site

from cms.models import MunicipalityHomePage, NationalHomePage
from config.demo import DEMO_PARTICIPANTS, demo_accounts_path
from municipalities.choices import StaffRole
from municipalities.models import County, Municipality, Route
from reports.models import Report, ReportEvent
from tests.support import factories
from tests.support.people import staff_user


@pytest.mark.django_db
def test_every_kommun_is_a_tenant():
    municipalities = list(Municipality.objects.select_related("county"))
    assert len(municipalities) == 290
    assert County.objects.count() == 21
    assert all(len(m.code) == 4 and m.code.isdigit() for m in municipalities)
    assert len({m.slug for m in municipalities}) == 290
    for m in municipalities:
        assert m.code.startswith(m.county.code)
    assert Municipality.objects.get(code="0180").name == "Stockholm"
    assert Municipality.objects.get(code="0114").slug == "upplands-vasby"


@pytest.mark.django_db
def test_kommuner_whose_names_fold_alike_get_distinct_slugs():
    assert Municipality.objects.get(code="0305").slug == "habo"  # Håbo
    assert Municipality.objects.get(code="0643").slug == "habo-jonkopings"  # Habo


@pytest.mark.django_db
def test_national_site_is_the_default():
    site = Site.objects.get(is_default_site=True)
    assert isinstance(site.root_page.specific, NationalHomePage)
    assert not hasattr(site, "municipality") or site.municipality is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("host", "title"),
    [
        ("malmo.localhost", "Malmö"),
        ("lund.localhost:8000", "Lund"),
        ("localhost", "Knutpunkt"),
    ],
)
def test_each_host_is_served_its_own_site(client, host, title):
    response = client.get("/", HTTP_HOST=host)
    assert response.status_code == 200
    assert f"<h1>{title}</h1>" in response.content.decode()


@pytest.mark.django_db
def test_only_a_non_participating_kommun_says_it_takes_no_reports(client):
    factories.kommun("2584", joined=False)  # Kiruna
    kiruna = client.get("/", HTTP_HOST="kiruna.localhost").content.decode()
    malmo = client.get("/", HTTP_HOST="malmo.localhost").content.decode()
    assert 'class="notice"' in kiruna and "Kiruna" in kiruna
    assert 'class="notice"' not in malmo


@pytest.mark.django_db
def test_malmo_editor_may_edit_malmo_pages_but_not_lunds():
    editor = staff_user("malmo-redaktor", "1280", StaffRole.EDITOR)
    malmo = Municipality.objects.get(code="1280").site.root_page
    lund = Municipality.objects.get(code="1281").site.root_page
    national = Site.objects.get(is_default_site=True).root_page
    assert malmo.permissions_for_user(editor).can_edit()
    assert malmo.permissions_for_user(editor).can_add_subpage()
    assert not lund.permissions_for_user(editor).can_edit()
    assert not national.permissions_for_user(editor).can_edit()


@pytest.mark.django_db
def test_malmo_editor_cannot_change_lunds_page_through_the_admin():
    client = Client()
    client.force_login(staff_user("malmo-redaktor", "1280", StaffRole.EDITOR))
    malmo = Municipality.objects.get(code="1280").site.root_page
    lund = Municipality.objects.get(code="1281").site.root_page
    assert client.get(f"/admin/pages/{malmo.pk}/edit/").status_code == 200
    assert client.get(f"/admin/pages/{lund.pk}/edit/").status_code in (302, 403)
    response = client.post(
        f"/admin/pages/{lund.pk}/edit/",
        {"title": "Hacked", "slug": lund.slug, "action-publish": "publish"},
    )
    assert response.status_code in (302, 403)
    assert Page.objects.get(pk=lund.pk).title == "Lund"
    # The same editor publishing on their own site does change it.
    response = client.post(
        f"/admin/pages/{malmo.pk}/edit/",
        {
            "title": "Malmö stad",
            "slug": malmo.slug,
            "intro": json.dumps({"blocks": [], "entityMap": {}}),
            "body-count": "0",
            "action-publish": "1",
        },
    )
    assert Page.objects.get(pk=malmo.pk).title == "Malmö stad", response.content[:500]


@pytest.mark.django_db
def test_state_roads_go_to_trafikverket_everywhere():
    route = Route.objects.get(category__name="Vägar (Riksvägar/Trafikverket)")
    assert route.municipality is None
    assert route.body.name == "Trafikverket" and route.body.nationwide
    malmo_routes = Route.objects.filter(municipality__code="1280")
    assert malmo_routes.count() == 19
    assert {r.body.name for r in malmo_routes} == {"Malmö kommun"}


@pytest.mark.django_db
def test_the_demo_gives_every_kommun_a_site_and_loads_idempotently(client):
    # Its year of history: tests/config/test_demo_history.py.
    call_command(
        "load_demo", domain="localhost", port=80, no_history=True, stdout=io.StringIO()
    )
    for m in Municipality.objects.select_related("site__root_page"):
        assert m.site.hostname == f"{m.slug}.localhost"
        assert isinstance(m.site.root_page.specific, MunicipalityHomePage)
    assert set(
        Municipality.objects.filter(participating=True).values_list("code", flat=True)
    ) == set(DEMO_PARTICIPANTS)
    counts = _counts()
    call_command(
        "load_demo", domain="localhost", port=80, no_history=True, stdout=io.StringIO()
    )
    assert _counts() == counts
    accounts = json.loads(demo_accounts_path().read_text())
    assert {a["username"] for a in accounts} == {
        "medborgare",
        "malmo-handlaggare",
        "lund-handlaggare",
        "malmo-redaktor",
        "malmo-kundcenter",
        "lund-kundcenter",
        "malmo-admin",
        "admin",
    }
    for account in accounts:
        # Sign-ins are counted per client address (django-axes), so they need a
        # request.
        assert Client().login(
            request=RequestFactory().post("/admin/login/"),
            username=account["username"],
            password=account["password"],
        )
    # The demo's staff reach their admin screens, and only their kommun's.
    client.force_login(get_user_model().objects.get(username="malmo-admin"))
    page = client.get("/admin/connections/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Malmö kommun" in text and "Lund kommun" not in text
    client.force_login(get_user_model().objects.get(username="malmo-handlaggare"))
    assert client.get("/admin/deliveries/").status_code == 200
    assert client.get("/admin/connections/").status_code in (302, 403)


def _counts():
    return (
        Municipality.objects.count(),
        Site.objects.count(),
        Page.objects.count(),
        Route.objects.count(),
        get_user_model().objects.count(),
        Report.objects.count(),
        ReportEvent.objects.count(),
    )
