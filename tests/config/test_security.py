import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from config.security import ADMIN_POLICY
from reports.models import MyReportsLink
from tests.support.casehub import confirmed_report
from tests.support.people import case_handler


def superuser():
    return get_user_model().objects.create_superuser("admin", "admin@example.org", "x")


@pytest.mark.django_db
def test_public_pages_get_a_strict_content_security_policy(client):
    response = client.get("/rapportera/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "https://tile.openstreetmap.org" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_the_wagtail_admin_has_a_policy_as_strict_as_it_allows(client):
    response = client.get("/admin/login/")
    policy = response["Content-Security-Policy"]
    assert policy == ADMIN_POLICY
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
        "connect-src 'self'",
        # The inbox's map: images from the configured tile server, no other.
        "img-src 'self' data: blob: https://tile.openstreetmap.org",
    ):
        assert directive in policy.split("; ")
    # Wagtail 8's editor needs inline scripts and styles, nothing from elsewhere
    # but the map tiles' images.
    assert policy.count("http") == 1 and "unsafe-eval" not in policy


@pytest.mark.django_db
def test_the_admin_does_not_ask_for_new_wagtail_releases(client, settings):
    client.force_login(superuser())
    # The dashboard's release check is a script controller; it is left out.
    assert 'data-controller="w-upgrade' not in client.get("/admin/").content.decode()
    settings.WAGTAIL_ENABLE_UPDATE_CHECK = True
    assert 'data-controller="w-upgrade' in client.get("/admin/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "geolocation"),
    [
        ("/rapportera/", "geolocation=(self)"),
        ("/rapporter/", "geolocation=()"),
        ("/rapportera/tack/", "geolocation=()"),
        ("/mina-sidor/", "geolocation=()"),
        ("/admin/login/", "geolocation=()"),
        ("/api/v1/locate?lat=55.6&lon=13.0", "geolocation=()"),
        ("/no-such-page/", "geolocation=()"),
    ],
)
def test_every_response_has_a_permissions_policy(client, path, geolocation):
    response = client.get(path)
    features = response["Permissions-Policy"].split(", ")
    assert geolocation in features
    assert [f for f in features if f.startswith("geolocation=")] == [geolocation]
    for denied in ("camera=()", "microphone=()", "payment=()", "usb=()"):
        assert denied in features


@pytest.mark.django_db
def test_the_report_form_in_the_other_language_may_ask_for_the_position(
    client, settings
):
    settings.LANGUAGE_CODE = "sv"
    response = client.get("/en/rapportera/")
    assert response.status_code == 200
    assert "geolocation=(self)" in response["Permissions-Policy"].split(", ")


@pytest.mark.django_db
def test_a_foreign_host_header_is_refused_and_nothing_is_sent(
    client, settings, smtp_server, django_capture_on_commit_callbacks
):
    settings.ALLOWED_HOSTS = ["localhost", ".localhost"]
    confirmed_report(title="Min lampa")  # by anna@example.org
    assert client.get("/mina-sidor/", HTTP_HOST="evil.example").status_code == 400
    with django_capture_on_commit_callbacks(execute=True) as queued:
        answer = client.post(
            "/mina-sidor/", {"email": "anna@example.org"}, HTTP_HOST="evil.example"
        )
    assert answer.status_code == 400
    assert queued == []
    assert smtp_server.bodies_to("anna@example.org") == []
    assert not MyReportsLink.objects.exists()
    # Our own host is served, and its link names it.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/mina-sidor/", {"email": "anna@example.org"}, HTTP_HOST="malmo.localhost"
        )
    (mail,) = smtp_server.bodies_to("anna@example.org")
    assert "http://malmo.localhost/mina-sidor/lank/" in mail
    assert client.get("/mina-sidor/", HTTP_HOST="malmo.localhost").status_code == 200


@pytest.mark.django_db
def test_forms_carry_a_csrf_token_and_posts_without_one_are_refused():
    strict = Client(enforce_csrf_checks=True)
    page = strict.get("/rapportera/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in page
    assert strict.post("/rapportera/", {"title": "x"}).status_code == 403


@pytest.mark.django_db
def test_the_admin_sends_no_staff_address_to_an_avatar_service(client):
    client.force_login(case_handler())
    page = client.get("/admin/deliveries/").content.decode()
    assert "gravatar" not in page.lower()
    assert "default-user-avatar" in page
