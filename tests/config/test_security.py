import pytest
from django.test import Client

from tests.support.people import case_handler


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
def test_the_wagtail_admin_keeps_its_own_policy(client):
    response = client.get("/admin/login/")
    assert "Content-Security-Policy" not in response


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
