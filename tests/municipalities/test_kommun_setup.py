"""A kommun administrator's own set-up: categories of the kommun's bodies, the
kommun's own extra questions, and the kommun's staff with their roles; another
kommun's are a 404 whatever the URL."""

import pytest
from django.contrib.auth import get_user_model

from municipalities.choices import StaffRole
from municipalities.models import (
    AuditEntry,
    Category,
    CategoryQuestion,
    Municipality,
    StaffMembership,
)
from municipalities.staff import staff_handler_scope
from reports.models import Report
from tests.support.casework import LUND, MALMO, kommun_body, make_report
from tests.support.people import staff_user, superuser

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def own_category(code: str, name: str) -> Category:
    return Category.objects.create(
        name=name, slug=f"{name.lower()}-{code}", body=kommun_body(code)
    )


def test_a_kommun_admin_makes_and_lists_categories_of_the_kommuns_bodies(client):
    admin = login(client, staff_user("malmo-admin", MALMO, StaffRole.ADMIN))
    lund_own = own_category(LUND, "Fontäner")
    page = admin.get("/admin/categories/")
    assert page.status_code == 200
    assert "Fontäner" not in page.content.decode()
    assert admin.get(f"/admin/categories/edit/{lund_own.pk}/").status_code in (
        302,
        403,
        404,
    )
    national = Category.objects.get(slug="gatubelysning")
    assert admin.get(f"/admin/categories/edit/{national.pk}/").status_code in (
        302,
        403,
        404,
    )
    form = admin.get("/admin/categories/new/").content.decode()
    assert f'value="{kommun_body(MALMO).pk}"' in form
    assert f'value="{kommun_body(LUND).pk}"' not in form

    created = admin.post(
        "/admin/categories/new/",
        {
            "name": "Lekplatser",
            "slug": "lekplatser-malmo",
            "body": kommun_body(LUND).pk,  # not Malmö's: refused at the field
            "sort_order": 5,
            "is_active": "on",
            "questions-TOTAL_FORMS": 0,
            "questions-INITIAL_FORMS": 0,
            "questions-MIN_NUM_FORMS": 0,
            "questions-MAX_NUM_FORMS": 1000,
        },
    )
    assert created.status_code == 200
    assert not Category.objects.filter(slug="lekplatser-malmo").exists()
    created = admin.post(
        "/admin/categories/new/",
        {
            "name": "Lekplatser",
            "slug": "lekplatser-malmo",
            "body": kommun_body(MALMO).pk,
            "sort_order": 5,
            "is_active": "on",
            "questions-TOTAL_FORMS": 0,
            "questions-INITIAL_FORMS": 0,
            "questions-MIN_NUM_FORMS": 0,
            "questions-MAX_NUM_FORMS": 1000,
        },
    )
    assert created.status_code == 302
    assert Category.objects.get(slug="lekplatser-malmo").body == kommun_body(MALMO)


def question_form(**values):
    base = {
        "code": "stolpe",
        "label": "Stolpnummer",
        "kind": "text",
        "help_text": "",
        "choices": "[]",
        "sort_order": 0,
    }
    return {**base, **values}


def test_a_kommuns_own_question_is_asked_only_there(client):
    admin = login(client, staff_user("malmo-admin", MALMO, StaffRole.ADMIN))
    lamps = Category.objects.get(slug="gatubelysning")
    malmo = Municipality.objects.get(code=MALMO)
    lund = Municipality.objects.get(code=LUND)
    refused = admin.post(
        "/admin/questions/new/",
        question_form(category=lamps.pk, municipality=lund.pk),
    )
    assert refused.status_code == 200  # Lund is not offered
    assert not CategoryQuestion.objects.exists()
    made = admin.post(
        "/admin/questions/new/",
        question_form(category=lamps.pk, municipality=malmo.pk, required="on"),
    )
    assert made.status_code == 302, made.content.decode()[:2000]
    question = CategoryQuestion.objects.get(code="stolpe")
    assert question.municipality == malmo
    assert list(lamps.questions_for(malmo.pk)) == [question]
    assert list(lamps.questions_for(lund.pk)) == []

    # The report form asks it in Malmö, not in Lund.
    malmo_form = client.get(
        "/rapportera/kategorier/", {"lat": 55.6059, "lon": 13.0007}
    ).content.decode()
    lund_form = client.get(
        "/rapportera/kategorier/", {"lat": 55.7047, "lon": 13.1910}
    ).content.decode()
    assert "Stolpnummer" in malmo_form
    assert "Stolpnummer" not in lund_form

    # A second question with the same code on the category is refused at the field.
    again = admin.post(
        "/admin/questions/new/",
        question_form(category=lamps.pk, municipality=malmo.pk, label="Annan"),
    )
    assert again.status_code == 200
    assert "already asks a question with this code" in again.content.decode()

    # Lund's administrator neither lists nor opens it.
    lund_admin = staff_user("lund-admin", LUND, StaffRole.ADMIN)
    client.force_login(lund_admin)
    assert "Stolpnummer" not in client.get("/admin/questions/").content.decode()
    assert client.get(f"/admin/questions/edit/{question.pk}/").status_code in (
        302,
        403,
        404,
    )


def test_a_kommun_admin_adds_a_case_handler_of_one_body_and_takes_the_role_back(
    client,
):
    admin_user = staff_user("malmo-admin", MALMO, StaffRole.ADMIN)
    admin = login(client, admin_user)
    malmo = Municipality.objects.get(code=MALMO)
    street = kommun_body(MALMO)
    page = admin.post(
        "/admin/staff/new/",
        {
            "email": "Ny.Handlaggare@malmo.example",
            "first_name": "Nora",
            "last_name": "Nyström",
            "municipality": malmo.pk,
            "role": StaffRole.CASE_HANDLER,
            "bodies": [kommun_body(LUND).pk],  # Lund's body: not offered
        },
    )
    assert page.status_code == 200
    assert (
        not get_user_model()
        .objects.filter(email__iexact="ny.handlaggare@malmo.example")
        .exists()
    )
    page = admin.post(
        "/admin/staff/new/",
        {
            "email": "Ny.Handlaggare@malmo.example",
            "first_name": "Nora",
            "last_name": "Nyström",
            "municipality": malmo.pk,
            "role": StaffRole.CASE_HANDLER,
            "bodies": [street.pk],
        },
    )
    assert page.status_code == 302
    handler = get_user_model().objects.get(email="Ny.Handlaggare@malmo.example")
    assert not handler.has_usable_password()
    membership = StaffMembership.objects.get(user=handler)
    assert list(membership.bodies.all()) == [street]
    own = make_report(MALMO, title="Släckt lykta")
    assert Report.objects.filter(staff_handler_scope(handler), pk=own.pk).exists()
    assert AuditEntry.objects.filter(
        action="staff.grant", actor=admin_user, municipality=malmo
    ).exists()
    listing = admin.get("/admin/staff/").content.decode()
    assert "Nora Nyström" in listing

    # The same role twice: a clear message at the field, nothing added.
    again = admin.post(
        "/admin/staff/new/",
        {
            "email": "ny.handlaggare@malmo.example",
            "municipality": malmo.pk,
            "role": StaffRole.CASE_HANDLER,
        },
    )
    assert again.status_code == 200
    assert StaffMembership.objects.filter(user=handler).count() == 1

    # Lund's administrator sees none of it.
    client.force_login(staff_user("lund-admin", LUND, StaffRole.ADMIN))
    assert "Nyström" not in client.get("/admin/staff/").content.decode()
    assert client.get(f"/admin/staff/edit/{membership.pk}/").status_code in (
        302,
        403,
        404,
    )
    assert client.post(f"/admin/staff/delete/{membership.pk}/").status_code in (
        302,
        403,
        404,
    )
    assert StaffMembership.objects.filter(pk=membership.pk).exists()
    # A case handler has no staff screen at all.
    client.force_login(handler)
    assert client.get("/admin/staff/").status_code in (302, 403)

    # Malmö's administrator takes the role back: the account leaves the admin.
    client.force_login(admin_user)
    gone = client.post(f"/admin/staff/delete/{membership.pk}/")
    assert gone.status_code == 302
    assert not StaffMembership.objects.filter(user=handler).exists()
    handler.refresh_from_db()
    assert not handler.has_perm("wagtailadmin.access_admin")
    assert AuditEntry.objects.filter(action="staff.revoke").count() == 1


def test_the_national_administrator_sees_every_kommuns_staff(client):
    staff_user("lund-handler", LUND, StaffRole.CASE_HANDLER)
    login(client, superuser())
    assert "lund-handler" in client.get("/admin/staff/").content.decode()
