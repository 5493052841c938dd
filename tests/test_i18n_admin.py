"""The admin screens we built speak Swedish: every label, column, help text and
message, walked as the staff who use them. A page fails on any text of ours
left in English (our catalogue's words and our models' field names)."""

import gettext
import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import timezone, translation
from django.utils.text import capfirst

from casehub.choices import DeliveryState
from casehub.models import Delivery, DeliveryAttempt
from cms.models import AccessibilityStatementPage
from municipalities.audit import audit_record
from municipalities.choices import BodyKind, ConnectionKind, StaffRole
from municipalities.models import (
    Body,
    Category,
    Connection,
    Municipality,
    Route,
    ServicePromise,
    WorkCalendar,
)
from tests.support import factories
from tests.support.people import staff_user, superuser
from tests.test_i18n import swedish_default  # noqa: F401  (the fixture)

pytestmark = pytest.mark.usefixtures("swedish_default")

MALMO = "1280"
OUR_APPS = ("municipalities", "reports", "casehub", "cms", "staffauth")
# English words that are Swedish too, or names and codes.
SAME_IN_SWEDISH = {"Status", "Open311", "E-post", "Slug", "slug", "Kommun"}


def _english_words() -> set[str]:
    """Our catalogue's English words whose Swedish differs, and the labels
    Django derives from our models' fields (capitalised as in a form)."""
    path = Path(settings.BASE_DIR) / "locale/sv/LC_MESSAGES/django.mo"
    with path.open("rb") as file:
        catalogue = gettext.GNUTranslations(file)._catalog
    words, swedish_words = set(), {capfirst(s) for s in catalogue.values()}
    for key, swedish in catalogue.items():
        msgid = key.split("\x04")[-1] if isinstance(key, str) else key[0]
        msgid = msgid.split("\x04")[-1]
        if msgid and swedish != msgid and len(msgid) < 200:
            words |= {msgid, capfirst(msgid)}
    with translation.override("en"):
        for config in apps.get_app_configs():
            if config.name not in OUR_APPS:
                continue
            for model in config.get_models():
                for field in model._meta.get_fields():
                    name = getattr(field, "verbose_name", None)
                    if name:
                        words.add(capfirst(str(name)))
    return {
        word
        for word in words - swedish_words - SAME_IN_SWEDISH
        if re.search("[a-z]", word)
    }


def _texts(page: str) -> set[str]:
    """What a person reads: text between tags, and titles, labels and
    placeholders of elements (not scripts, not the admin's JSON props)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    texts = {" ".join(t.split()) for t in re.findall(r">([^<]+)<", page)}
    texts |= set(re.findall(r'(?:title|aria-label|placeholder)="([^"]+)"', page))
    return {html.unescape(t).strip(" :*") for t in texts} - {""}


def english_on(page: str, words: set[str]) -> set[str]:
    return {text for text in _texts(page) if text in words}


@pytest.fixture
def setup():
    body = Body.objects.get(municipalities__code=MALMO, kind=BodyKind.MUNICIPAL)
    connection = Connection.objects.create(
        body=body,
        name="Gatukontorets system",
        kind=ConnectionKind.WEBHOOK,
        endpoint="https://cases.example.org/hook",
        consecutive_failures=5,
        circuit_open_until=timezone.now() + timedelta(minutes=1),
        last_error="HTTP 503",
    )
    report = factories.report(code=MALMO, title="Släckt lykta", confirmed=True)
    delivery = Delivery.objects.create(
        report=report,
        connection=connection,
        state=DeliveryState.DEAD,
        attempts=1,
        next_attempt_at=timezone.now(),
        queued_at=timezone.now(),
        last_error="HTTP 503",
    )
    DeliveryAttempt.objects.create(
        delivery=delivery,
        started_at=timezone.now(),
        http_status=503,
        error="HTTP 503",
    )
    route = Route.objects.filter(municipality__code=MALMO).first()
    category = Category.objects.get(slug="gatubelysning")
    audit_record(
        actor=superuser(),
        action="edit",
        target=connection,
        municipality=route.municipality,
        before={"is_active": True, "timeout_seconds": 10.0},
        after={"is_active": False, "timeout_seconds": 5.0},
    )
    malmo = Municipality.objects.get(code=MALMO)
    promise = ServicePromise.objects.create(
        municipality=malmo, response_days=2, fix_days=10
    )
    ServicePromise.objects.create(
        municipality=malmo, category=category, response_days=1, fix_days=5
    )
    calendar = WorkCalendar.objects.create(
        municipality=malmo, extra_days_off="2027-05-07 Klämdag"
    )
    return {
        "body": body,
        "connection": connection,
        "delivery": delivery,
        "route": route,
        "category": category,
        "promise": promise,
        "calendar": calendar,
    }


def screens(o) -> list[str]:
    return [
        "/admin/",
        "/admin/deliveries/",
        "/admin/deliveries/?state=dead",
        f"/admin/deliveries/{o['delivery'].pk}/",
        f"/admin/deliveries/{o['delivery'].pk}/resend/",
        "/admin/connections/",
        "/admin/connections/new/",
        f"/admin/connections/edit/{o['connection'].pk}/",
        f"/admin/connections/retry/{o['connection'].pk}/",
        f"/admin/connections/delete/{o['connection'].pk}/",
        "/admin/bodies/",
        "/admin/bodies/new/",
        f"/admin/bodies/edit/{o['body'].pk}/",
        "/admin/routes/",
        "/admin/routes/new/",
        f"/admin/routes/edit/{o['route'].pk}/",
        f"/admin/routes/delete/{o['route'].pk}/",
        "/admin/audit-log/",
        "/admin/audit-log/?at_from=2026-12-07&at_to=2026-12-01",
        "/admin/staff/",
        "/admin/staff/new/",
        "/admin/questions/",
        "/admin/questions/new/",
        "/admin/districts/",
        "/admin/districts/new/",
        "/admin/service-promises/",
        "/admin/service-promises/new/",
        f"/admin/service-promises/edit/{o['promise'].pk}/",
        f"/admin/service-promises/delete/{o['promise'].pk}/",
        "/admin/working-days/",
        "/admin/working-days/new/",
        f"/admin/working-days/edit/{o['calendar'].pk}/",
        "/admin/categories/",
        "/admin/categories/new/",
        "/admin/inbox/",
        "/admin/inbox/map/",
        "/admin/inbox/new/",
        "/admin/statistics/",
        "/admin/two-factor/",
    ]


def category_screens(o) -> list[str]:
    return [
        "/admin/categories/",
        "/admin/categories/new/",
        f"/admin/categories/edit/{o['category'].pk}/",
    ]


def casework_screens(o) -> list[str]:
    return [
        "/admin/",
        "/admin/deliveries/",
        f"/admin/deliveries/{o['delivery'].pk}/",
        f"/admin/deliveries/{o['delivery'].pk}/resend/",
        "/admin/two-factor/",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", [None, StaffRole.ADMIN, StaffRole.CASE_HANDLER, StaffRole.CONTACT_CENTRE]
)
def test_the_admin_screens_speak_swedish(client, setup, role):
    if role is None:
        client.force_login(superuser())
        paths = screens(setup) + category_screens(setup)
    else:
        client.force_login(staff_user(f"malmo-{role}-sv", MALMO, role))
        paths = screens(setup) if role == StaffRole.ADMIN else casework_screens(setup)
    words = _english_words()
    found = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        english = english_on(response.content.decode(), words)
        if english:
            found[path] = sorted(english)
    assert found == {}


@pytest.mark.django_db
def test_refused_forms_speak_swedish(client, setup):
    client.force_login(superuser())
    words = _english_words()
    found = {}
    for path in [
        "/admin/bodies/new/",
        "/admin/routes/new/",
        "/admin/connections/new/",
        "/admin/service-promises/new/",
        "/admin/working-days/new/",
    ]:
        response = client.post(path, {})
        assert response.status_code == 200, path
        english = english_on(response.content.decode(), words)
        if english:
            found[path] = sorted(english)
    assert found == {}


def test_the_check_finds_english():
    words = _english_words()
    assert english_on("<th>Body</th><label>Attempts</label>", words) == {
        "Body",
        "Attempts",
    }


@pytest.mark.django_db
def test_the_two_factor_pages_speak_swedish(client):
    client.force_login(staff_user("malmo-handler-sv", MALMO, StaffRole.CASE_HANDLER))
    words = _english_words()
    page = client.get("/admin/two-factor/enrol/").content.decode()
    assert english_on(page, words) == set()
    response = client.post("/admin/two-factor/enrol/", {"code": "000000"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Koden stämmer inte." in page
    assert english_on(page, words) == set()
    client.logout()
    page = client.get("/admin/password_reset/").content.decode()
    assert english_on(page, words) == set()


@pytest.mark.django_db
def test_the_admins_messages_speak_swedish(client, setup):
    client.force_login(superuser())
    retried = client.post(
        f"/admin/connections/retry/{setup['connection'].pk}/", follow=True
    )
    resent = client.post(
        f"/admin/deliveries/{setup['delivery'].pk}/resend/", follow=True
    )
    messages = [
        str(m).strip() for r in (retried, resent) for m in r.context["messages"]
    ]
    assert messages == [
        "Leveranser till Malmö kommun: Gatukontorets system försöks igen.",
        f"Felanmälan {setup['delivery'].report_id} skickas igen inom kort.",
    ]


@pytest.mark.django_db
def test_the_page_editors_speak_swedish(client):
    client.force_login(superuser())
    words = _english_words()
    home = Municipality.objects.get(code=MALMO).site.root_page
    statement = AccessibilityStatementPage.objects.descendant_of(home).first()
    found = {}
    for path in [
        f"/admin/pages/add/cms/contentpage/{home.pk}/",
        f"/admin/pages/{home.pk}/edit/",
        f"/admin/pages/{statement.pk}/edit/",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        english = english_on(response.content.decode(), words)
        if english:
            found[path] = sorted(english)
    assert found == {}
