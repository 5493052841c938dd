"""The kommun's service promises and working days in the admin: each kommun's
administrators their own only, audited, bad input refused at the field."""

import sys

import pytest

from municipalities import workdays
from municipalities.choices import StaffRole
from municipalities.models import (
    AuditEntry,
    Body,
    Category,
    Municipality,
    Route,
    ServicePromise,
    WorkCalendar,
)
from tests.support.people import staff_user as staff
from tests.support.people import superuser

pytestmark = pytest.mark.django_db

MALMO, LUND = "1280", "1281"
PROMISES, CALENDARS = "/admin/service-promises/", "/admin/working-days/"


def kommun(code: str) -> Municipality:
    return Municipality.objects.get(code=code)


def lamp() -> Category:
    return Category.objects.get(slug="gatubelysning")


def refused(response) -> bool:
    """Wagtail answers a permission refusal with a redirect to the dashboard."""
    return response.status_code in (302, 403, 404)


@pytest.fixture
def malmo_admin(client):
    client.force_login(staff("malmo-admin-promise", MALMO, StaffRole.ADMIN))
    return client


@pytest.fixture
def lund_rows():
    lund = kommun(LUND)
    promise = ServicePromise.objects.create(
        municipality=lund, category=None, response_days=3, fix_days=15
    )
    calendar = WorkCalendar.objects.create(municipality=lund, christmas_eve_off=False)
    return promise, calendar


def promise_form(code=MALMO, category=None, response="2", fix="10") -> dict:
    return {
        "municipality": kommun(code).pk,
        "category": category.pk if category else "",
        "response_days": response,
        "fix_days": fix,
    }


def calendar_form(code=MALMO, extra="", **off) -> dict:
    form = {"municipality": kommun(code).pk, "extra_days_off": extra}
    for name in ("midsummer_eve_off", "christmas_eve_off", "new_years_eve_off"):
        if off.get(name, True):
            form[name] = "on"
    return form


def field_errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


# --- who sees what --------------------------------------------------------------------


def test_a_kommun_admin_sets_the_kommuns_default_and_category_promises(malmo_admin):
    response = malmo_admin.post(f"{PROMISES}new/", promise_form())
    assert response.status_code == 302
    response = malmo_admin.post(
        f"{PROMISES}new/", promise_form(category=lamp(), response="1", fix="5")
    )
    assert response.status_code == 302
    rows = ServicePromise.objects.filter(municipality__code=MALMO)
    assert {(p.category_id, p.response_days, p.fix_days) for p in rows} == {
        (None, 2, 10),
        (lamp().pk, 1, 5),
    }
    listing = malmo_admin.get(PROMISES).content.decode()
    assert "Every other category" in listing and "Gatubelysning" in listing
    # Audited by the kit, in the kommun.
    created = AuditEntry.objects.filter(
        action="create", object_type__icontains="promise"
    )
    assert created.count() == 2
    assert {e.municipality_id for e in created} == {kommun(MALMO).pk}


def test_the_kommun_is_chosen_and_only_its_categories_offered(malmo_admin):
    form = malmo_admin.get(f"{PROMISES}new/").context["form"]
    assert list(form.fields["municipality"].queryset) == [kommun(MALMO)]
    assert form.initial["municipality"] == kommun(MALMO).pk
    offered = set(form.fields["category"].queryset)
    assert lamp() in offered
    # A category of another kommun's own case system is not offered.
    lund_body = Body.objects.get(municipalities__code=LUND, kind="municipal")
    own = Category.objects.create(name="Lunds egen", slug="lunds-egen", body=lund_body)
    Route.objects.create(municipality=kommun(LUND), category=own, body=lund_body)
    form = malmo_admin.get(f"{PROMISES}new/").context["form"]
    assert own not in set(form.fields["category"].queryset)
    response = malmo_admin.post(f"{PROMISES}new/", promise_form(category=own))
    assert response.status_code == 200
    assert field_errors(response, "category")
    assert not ServicePromise.objects.exists()


def test_lunds_promises_and_calendar_are_not_malmos(malmo_admin, lund_rows):
    promise, calendar = lund_rows
    assert "Lund" not in malmo_admin.get(PROMISES).content.decode()
    assert "Lund" not in malmo_admin.get(CALENDARS).content.decode()
    for prefix, other in ((PROMISES, promise), (CALENDARS, calendar)):
        for view in ("edit", "delete", "history", "usage"):
            response = malmo_admin.get(f"{prefix}{view}/{other.pk}/")
            assert response.status_code == 404, (prefix, view)
        assert malmo_admin.post(f"{prefix}delete/{other.pk}/").status_code == 404
        assert type(other).objects.filter(pk=other.pk).exists()
    response = malmo_admin.post(
        f"{PROMISES}edit/{promise.pk}/", promise_form(code=LUND, response="1", fix="1")
    )
    assert response.status_code == 404
    response = malmo_admin.post(
        f"{CALENDARS}edit/{calendar.pk}/", calendar_form(code=LUND)
    )
    assert response.status_code == 404
    promise.refresh_from_db()
    calendar.refresh_from_db()
    assert (promise.response_days, promise.fix_days) == (3, 15)
    assert calendar.christmas_eve_off is False
    # Nor can Malmö's administrator make one for Lund.
    response = malmo_admin.post(f"{PROMISES}new/", promise_form(code=LUND))
    assert response.status_code == 200 and field_errors(response, "municipality")
    response = malmo_admin.post(f"{CALENDARS}new/", calendar_form(code=LUND))
    assert response.status_code == 200 and field_errors(response, "municipality")
    assert ServicePromise.objects.count() == 1 and WorkCalendar.objects.count() == 1
    assert not AuditEntry.objects.exists()


def test_a_superuser_sees_every_kommuns(client, lund_rows):
    promise, calendar = lund_rows
    client.force_login(superuser())
    assert f"{PROMISES}edit/{promise.pk}/" in client.get(PROMISES).content.decode()
    assert f"{CALENDARS}edit/{calendar.pk}/" in client.get(CALENDARS).content.decode()
    assert client.get(f"{PROMISES}edit/{promise.pk}/").status_code == 200


@pytest.mark.parametrize(
    "role", [StaffRole.CASE_HANDLER, StaffRole.CONTACT_CENTRE, StaffRole.EDITOR]
)
def test_other_roles_cannot_reach_the_screens(client, role):
    client.force_login(staff(f"malmo-{role}-promise", MALMO, role))
    own_promise = ServicePromise.objects.create(
        municipality=kommun(MALMO), response_days=2, fix_days=10
    )
    own_calendar = WorkCalendar.objects.create(municipality=kommun(MALMO))
    menu = client.get("/admin/").content.decode()
    assert PROMISES not in menu and CALENDARS not in menu
    for prefix, own in ((PROMISES, own_promise), (CALENDARS, own_calendar)):
        assert refused(client.get(prefix)), prefix
        assert refused(client.get(f"{prefix}new/")), prefix
        assert refused(client.get(f"{prefix}edit/{own.pk}/")), prefix
        assert refused(client.post(f"{prefix}delete/{own.pk}/")), prefix
    assert refused(client.post(f"{PROMISES}new/", promise_form(category=lamp())))
    assert refused(
        client.post(
            f"{PROMISES}edit/{own_promise.pk}/", promise_form(response="9", fix="9")
        )
    )
    own_promise.refresh_from_db()
    assert own_promise.response_days == 2
    assert ServicePromise.objects.count() == 1 and WorkCalendar.objects.count() == 1


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response_days", "fix_days", "field"),
    [
        ("0", "10", "response_days"),
        ("-2", "10", "response_days"),
        ("2", "0", "fix_days"),
        ("5", "3", "fix_days"),
        ("", "3", "response_days"),
    ],
)
def test_a_bad_promise_is_refused_at_its_field(
    malmo_admin, response_days, fix_days, field
):
    response = malmo_admin.post(
        f"{PROMISES}new/", promise_form(response=response_days, fix=fix_days)
    )
    assert response.status_code == 200
    assert field_errors(response, field)
    assert not ServicePromise.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_second_default_or_category_promise_is_refused_at_the_category(
    malmo_admin,
):
    ServicePromise.objects.create(
        municipality=kommun(MALMO), response_days=2, fix_days=10
    )
    ServicePromise.objects.create(
        municipality=kommun(MALMO), category=lamp(), response_days=1, fix_days=5
    )
    for category in (None, lamp()):
        response = malmo_admin.post(
            f"{PROMISES}new/", promise_form(category=category, response="3", fix="4")
        )
        assert response.status_code == 200
        errors = field_errors(response, "category")
        assert errors and "already has" in errors[0]
        assert not response.context["form"].non_field_errors()
    assert ServicePromise.objects.count() == 2


def test_editing_a_promise_keeps_it_and_is_audited(malmo_admin):
    promise = ServicePromise.objects.create(
        municipality=kommun(MALMO), response_days=2, fix_days=10
    )
    response = malmo_admin.post(
        f"{PROMISES}edit/{promise.pk}/", promise_form(response="3", fix="10")
    )
    assert response.status_code == 302
    promise.refresh_from_db()
    assert promise.response_days == 3
    entry = AuditEntry.objects.get(action="edit")
    assert entry.before == {"response_days": 2} and entry.after == {"response_days": 3}


@pytest.mark.parametrize(
    "extra", ["2027-13-01", "imorgon", "2027-05-07 Klämdag\n1999-01-01", "7/5 2027"]
)
def test_a_bad_extra_day_off_is_refused_at_the_field(malmo_admin, extra):
    response = malmo_admin.post(f"{CALENDARS}new/", calendar_form(extra=extra))
    assert response.status_code == 200
    errors = field_errors(response, "extra_days_off")
    assert errors and any("Line" in e for e in errors)
    assert not WorkCalendar.objects.exists()


def test_a_second_calendar_for_the_kommun_is_refused(malmo_admin):
    WorkCalendar.objects.create(municipality=kommun(MALMO))
    response = malmo_admin.post(f"{CALENDARS}new/", calendar_form())
    assert response.status_code == 200
    assert field_errors(response, "municipality")
    assert WorkCalendar.objects.count() == 1


@pytest.fixture
def holidays_unloadable(monkeypatch):
    """The holiday library cannot be imported (a broken installation)."""
    workdays._national_days_off.cache_clear()
    monkeypatch.setitem(sys.modules, "holidays", None)
    yield
    workdays._national_days_off.cache_clear()


def test_a_calendar_that_cannot_be_counted_is_a_form_error(
    malmo_admin, holidays_unloadable
):
    response = malmo_admin.post(
        f"{CALENDARS}new/", calendar_form(extra="2027-05-07 Klämdag")
    )
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors and "cannot be counted" in errors[0]
    assert not WorkCalendar.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_kommun_admin_keeps_the_kommuns_working_days(malmo_admin):
    response = malmo_admin.post(
        f"{CALENDARS}new/",
        calendar_form(
            extra="2027-05-07 Klämdag\n\n2027-11-05", midsummer_eve_off=False
        ),
    )
    assert response.status_code == 302
    calendar = WorkCalendar.objects.get(municipality__code=MALMO)
    assert calendar.midsummer_eve_off is False and calendar.christmas_eve_off is True
    listing = malmo_admin.get(CALENDARS).content.decode()
    assert "Malmö" in listing
    assert AuditEntry.objects.filter(action="create").count() == 1
