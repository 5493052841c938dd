"""The case-system set-up in the admin: bodies, routes and connections, each
kommun's administrators their own only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from municipalities.choices import BodyKind, ConnectionKind, StaffRole
from municipalities.models import Body, Category, Connection, Municipality, Route
from tests.support.people import staff_user as staff
from tests.support.people import superuser

MALMO, LUND = "1280", "1281"


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def malmo_admin(client):
    return login(client, staff("malmo-admin-test", MALMO, StaffRole.ADMIN))


def kommun_body(code: str) -> Body:
    return Body.objects.get(municipalities__code=code, kind=BodyKind.MUNICIPAL)


def own_and_others():
    """(url prefix, Malmö's object, Lund's object) per screen."""
    malmo, lund = kommun_body(MALMO), kommun_body(LUND)
    return [
        ("bodies", malmo, lund),
        (
            "routes",
            Route.objects.filter(municipality__code=MALMO).first(),
            Route.objects.filter(municipality__code=LUND).first(),
        ),
        ("connections", malmo.connections.first(), lund.connections.first()),
    ]


def refused(response) -> bool:
    """Wagtail answers a permission refusal with a redirect to the dashboard."""
    return response.status_code in (302, 403, 404)


@pytest.mark.django_db
def test_a_kommun_admin_lists_only_the_kommuns_own_set_up(malmo_admin):
    trafikverket = Body.objects.get(nationwide=True)
    for prefix, own, other in own_and_others():
        page = malmo_admin.get(f"/admin/{prefix}/")
        assert page.status_code == 200, prefix
        html = page.content.decode()
        assert f"/admin/{prefix}/edit/{own.pk}/" in html, prefix
        assert f"/admin/{prefix}/edit/{other.pk}/" not in html, prefix
        assert "Lund" not in html, prefix  # not in the rows, nor in the filters
    bodies = malmo_admin.get("/admin/bodies/").content.decode()
    assert "Malmö kommun" in bodies
    assert "Lund kommun" not in bodies and trafikverket.name not in bodies
    assert "Case systems" in malmo_admin.get("/admin/").content.decode()


@pytest.mark.django_db
def test_another_kommuns_objects_are_not_found_and_posts_change_nothing(
    malmo_admin,
):
    lund_body = kommun_body(LUND)
    for prefix, _own, other in own_and_others():
        for view in ("edit", "delete", "history", "usage"):
            response = malmo_admin.get(f"/admin/{prefix}/{view}/{other.pk}/")
            assert response.status_code == 404, (prefix, view)
        response = malmo_admin.post(f"/admin/{prefix}/delete/{other.pk}/")
        assert response.status_code == 404, prefix
        assert type(other).objects.filter(pk=other.pk).exists()

    response = malmo_admin.post(
        f"/admin/bodies/edit/{lund_body.pk}/",
        {"name": "Övertagen", "slug": lund_body.slug, "kind": "municipal"},
    )
    assert response.status_code == 404
    lund_body.refresh_from_db()
    assert lund_body.name == "Lund kommun"

    lund_route = Route.objects.filter(municipality__code=LUND).first()
    response = malmo_admin.post(
        f"/admin/routes/edit/{lund_route.pk}/",
        {
            "municipality": lund_route.municipality_id,
            "category": lund_route.category_id,
            "body": kommun_body(MALMO).pk,
        },
    )
    assert response.status_code == 404
    lund_route.refresh_from_db()
    assert lund_route.body_id == lund_body.pk

    connection = lund_body.connections.first()
    paused = timezone.now() + timedelta(minutes=5)
    Connection.objects.filter(pk=connection.pk).update(circuit_open_until=paused)
    for method in (malmo_admin.get, malmo_admin.post):
        response = method(f"/admin/connections/retry/{connection.pk}/")
        assert response.status_code == 404
    connection.refresh_from_db()
    assert connection.circuit_open_until == paused


@pytest.mark.django_db
def test_a_superuser_sees_every_kommuns_set_up_and_the_nationwide_bodies(client):
    login(client, superuser())
    for prefix, own, other in own_and_others():
        for obj in (own, other):
            # Every kommun's routes are more than a page: one kommun at a time.
            query = {"municipality": obj.municipality_id} if prefix == "routes" else {}
            html = client.get(f"/admin/{prefix}/", query).content.decode()
            assert f"/admin/{prefix}/edit/{obj.pk}/" in html, prefix
        assert client.get(f"/admin/{prefix}/edit/{other.pk}/").status_code == 200
    trafikverket = Body.objects.get(nationwide=True)
    assert trafikverket.name in client.get("/admin/bodies/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [StaffRole.EDITOR, StaffRole.CASE_HANDLER])
def test_editors_and_case_handlers_have_no_set_up_screens(client, role):
    user = staff(f"malmo-{role}-test", MALMO, role)
    login(client, user)
    assert "Case systems" not in client.get("/admin/").content.decode()
    for prefix, own, _other in own_and_others():
        assert refused(client.get(f"/admin/{prefix}/")), prefix
        assert refused(client.get(f"/admin/{prefix}/new/")), prefix
        assert refused(client.get(f"/admin/{prefix}/edit/{own.pk}/")), prefix
        assert refused(client.post(f"/admin/{prefix}/delete/{own.pk}/")), prefix
        assert type(own).objects.filter(pk=own.pk).exists()
    body = kommun_body(MALMO)
    response = client.post(
        f"/admin/bodies/edit/{body.pk}/",
        {"name": "Ändrad", "slug": body.slug, "kind": "municipal"},
    )
    assert refused(response)
    body.refresh_from_db()
    assert body.name == "Malmö kommun"


@pytest.mark.django_db
def test_the_demo_editor_is_refused_too(client):
    login(client, staff("malmo-redaktor", "1280", StaffRole.EDITOR))
    assert "Case systems" not in client.get("/admin/").content.decode()
    assert refused(client.get("/admin/connections/"))


def route_form(category, body, connection=None, municipality=MALMO):
    return {
        "municipality": Municipality.objects.get(code=municipality).pk,
        "category": category.pk,
        "body": body.pk,
        "connection": connection.pk if connection else "",
    }


@pytest.mark.django_db
def test_a_kommun_admin_cannot_route_to_another_kommuns_body(malmo_admin):
    category = Category.objects.create(name="Testkategori", slug="testkategori")
    before = Route.objects.count()
    response = malmo_admin.post(
        "/admin/routes/new/", route_form(category, kommun_body(LUND))
    )
    assert response.status_code == 200
    assert "body" in response.context["form"].errors
    assert Route.objects.count() == before

    # Nor to another kommun's connection, nor for another kommun.
    lund_connection = kommun_body(LUND).connections.first()
    response = malmo_admin.post(
        "/admin/routes/new/",
        route_form(category, kommun_body(MALMO), connection=lund_connection),
    )
    assert "connection" in response.context["form"].errors
    response = malmo_admin.post(
        "/admin/routes/new/",
        route_form(category, kommun_body(MALMO), municipality=LUND),
    )
    assert "municipality" in response.context["form"].errors
    assert Route.objects.count() == before

    # Editing an own route cannot point it elsewhere either.
    route = Route.objects.filter(municipality__code=MALMO).first()
    response = malmo_admin.post(
        f"/admin/routes/edit/{route.pk}/",
        route_form(route.category, kommun_body(LUND)),
    )
    assert "body" in response.context["form"].errors
    route.refresh_from_db()
    assert route.body == kommun_body(MALMO)

    # The form offers only Malmö's own.
    html = malmo_admin.get("/admin/routes/new/").content.decode()
    assert "Malmö kommun" in html and "Lund kommun" not in html


@pytest.mark.django_db
def test_a_kommun_admin_routes_a_category_to_an_own_connection(malmo_admin):
    category = Category.objects.create(name="Testkategori", slug="testkategori")
    body = kommun_body(MALMO)
    response = malmo_admin.post(
        "/admin/routes/new/",
        route_form(category, body, connection=body.connections.first()),
    )
    assert response.status_code == 302
    route = Route.objects.get(category=category)
    assert route.municipality.code == MALMO and route.body == body


def connection_form(body, **overrides):
    data = {
        "body": body.pk,
        "name": "Ärendesystemet",
        "kind": ConnectionKind.WEBHOOK,
        "endpoint": "https://example.org/hook",
        "email": "",
        "jurisdiction_id": "",
        "timeout_seconds": "10",
        "max_in_flight": "4",
        "is_active": "on",
        "services-TOTAL_FORMS": "0",
        "services-INITIAL_FORMS": "0",
        "services-MIN_NUM_FORMS": "0",
        "services-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_connections_are_created_for_own_bodies_only(malmo_admin):
    before = Connection.objects.count()
    response = malmo_admin.post(
        "/admin/connections/new/", connection_form(kommun_body(LUND))
    )
    assert response.status_code == 200
    assert "body" in response.context["form"].errors
    assert Connection.objects.count() == before

    response = malmo_admin.post(
        "/admin/connections/new/",
        connection_form(
            kommun_body(MALMO), secret_env="KNUTPUNKT_CONNECTION_SECRET_LUND"
        ),
    )
    assert response.status_code == 302
    created = Connection.objects.get(name="Ärendesystemet")
    assert created.body == kommun_body(MALMO)
    # The secret's variable is the operator's to set, not a kommun's.
    assert created.secret_env == ""


@pytest.mark.django_db
def test_the_connection_screens_show_health_service_codes_and_try_again(
    malmo_admin,
):
    connection = kommun_body(MALMO).connections.first()
    paused = timezone.now() + timedelta(minutes=5)
    Connection.objects.filter(pk=connection.pk).update(
        consecutive_failures=7,
        circuit_open_until=paused,
        last_error="HTTP 503 from the case system",
    )
    html = malmo_admin.get("/admin/connections/").content.decode()
    assert "Failures in a row" in html and "Paused until" in html
    assert "HTTP 503 from the case system" in html
    assert f"/admin/connections/retry/{connection.pk}/" in html

    edit = malmo_admin.get(f"/admin/connections/edit/{connection.pk}/")
    assert edit.status_code == 200
    assert 'name="services-TOTAL_FORMS"' in edit.content.decode()

    confirm = malmo_admin.get(f"/admin/connections/retry/{connection.pk}/")
    assert confirm.status_code == 200
    assert "csrfmiddlewaretoken" in confirm.content.decode()
    connection.refresh_from_db()
    assert connection.circuit_open_until == paused  # GET only asks

    response = malmo_admin.post(f"/admin/connections/retry/{connection.pk}/")
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.circuit_open_until is None


@pytest.mark.django_db
def test_a_body_shared_with_another_kommun_keeps_it_when_edited(malmo_admin):
    body = kommun_body(MALMO)
    lund = Municipality.objects.get(code=LUND)
    body.municipalities.add(lund)
    response = malmo_admin.post(
        f"/admin/bodies/edit/{body.pk}/",
        {
            "name": "Malmö stad",
            "slug": body.slug,
            "kind": "municipal",
            "municipalities": [Municipality.objects.get(code=MALMO).pk],
        },
    )
    assert response.status_code == 302
    body.refresh_from_db()
    assert body.name == "Malmö stad"
    assert set(body.municipalities.values_list("code", flat=True)) == {MALMO, LUND}
    assert not body.nationwide


@pytest.mark.django_db
def test_a_kommun_admin_cannot_make_a_body_nationwide_or_kommunless(malmo_admin):
    response = malmo_admin.post(
        "/admin/bodies/new/",
        {"name": "Gatukontoret", "slug": "gatukontoret", "kind": "municipal"},
    )
    assert response.status_code == 200
    assert "municipalities" in response.context["form"].errors

    response = malmo_admin.post(
        "/admin/bodies/new/",
        {
            "name": "Gatukontoret",
            "slug": "gatukontoret",
            "kind": "municipal",
            "nationwide": "on",
            "municipalities": [Municipality.objects.get(code=MALMO).pk],
        },
    )
    assert response.status_code == 302
    body = Body.objects.get(slug="gatukontoret")
    assert not body.nationwide
    assert list(body.municipalities.values_list("code", flat=True)) == [MALMO]


@pytest.mark.django_db
def test_what_is_still_in_use_is_not_deleted_and_the_rest_is(malmo_admin):
    body = kommun_body(MALMO)  # its routes hold on to it
    response = malmo_admin.post(f"/admin/bodies/delete/{body.pk}/")
    assert response.status_code == 302
    assert Body.objects.filter(pk=body.pk).exists()

    spare = Connection.objects.create(
        body=body, name="Reserv", kind=ConnectionKind.EMAIL, email="gata@example.org"
    )
    assert malmo_admin.get(f"/admin/connections/delete/{spare.pk}/").status_code == 200
    response = malmo_admin.post(f"/admin/connections/delete/{spare.pk}/")
    assert response.status_code == 302
    assert not Connection.objects.filter(pk=spare.pk).exists()


@pytest.mark.django_db
def test_a_kommun_admin_cannot_take_a_joining_kommuns_body_slug(malmo_admin):
    # municipality_join would find this body by its slug and hand it Stockholm.
    response = malmo_admin.post(
        "/admin/bodies/new/",
        {
            "name": "Stockholms stad",
            "slug": "kommun-stockholm-2",
            "kind": "municipal",
            "municipalities": [Municipality.objects.get(code=MALMO).pk],
        },
    )
    assert response.status_code == 200
    assert "slug" in response.context["form"].errors
    assert not Body.objects.filter(slug="kommun-stockholm-2").exists()


@pytest.mark.django_db
def test_service_codes_map_shared_or_own_categories_only(malmo_admin):
    connection = kommun_body(MALMO).connections.first()
    lunds_own = Category.objects.create(
        name="Lunds egen", slug="lunds-egen", body=kommun_body(LUND)
    )
    shared = Category.objects.get(slug="gatubelysning")

    def post(category):
        return malmo_admin.post(
            f"/admin/connections/edit/{connection.pk}/",
            connection_form(
                connection.body,
                name=connection.name,
                kind=connection.kind,
                endpoint="",
                **{
                    "services-TOTAL_FORMS": "1",
                    "services-0-id": "",
                    "services-0-category": category.pk,
                    "services-0-service_code": "001",
                },
            ),
        )

    response = post(lunds_own)
    assert response.status_code == 200
    (service_form,) = response.context["form"].formsets["services"].forms
    assert list(service_form.errors) == ["category"]
    assert not connection.services.exists()
    assert post(shared).status_code == 302
    assert list(connection.services.values_list("category__slug", flat=True)) == [
        "gatubelysning"
    ]
