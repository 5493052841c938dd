import pytest
from django.urls import clear_url_caches


@pytest.fixture
def swedish_default(settings):
    """The production default language (the suite runs in English). URL resolvers
    cache language prefixes by the default language, so they are reset too."""
    settings.LANGUAGE_CODE = "sv"
    clear_url_caches()
    yield
    clear_url_caches()


@pytest.mark.django_db
def test_the_site_speaks_swedish_by_default(client, settings, swedish_default):
    page = client.get("/rapportera/").content.decode()
    assert '<html lang="sv">' in page
    assert "Rapportera ett fel" in page
    assert "Report a problem" not in page


@pytest.mark.django_db
def test_english_lives_under_en_and_the_switch_sets_it(
    client, settings, swedish_default
):
    english = client.get("/en/rapportera/").content.decode()
    assert '<html lang="en">' in english and "Report a problem" in english
    response = client.post(
        "/i18n/setlang/",
        {"language": "en", "next": "/rapportera/"},
        HTTP_ACCEPT_LANGUAGE="sv",
    )
    assert response.status_code == 302
    assert response["Location"] == "/en/rapportera/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


@pytest.mark.django_db
def test_validation_messages_are_translated(client, settings, swedish_default):
    response = client.post(
        "/rapportera/",
        {
            "lat": "59.91",
            "lon": "10.75",
            "category": "gatubelysning",
            "title": "T",
            "description": "D",
            "name": "N",
            "email": "n@example.org",
        },
    )
    assert response.status_code == 400
    assert "utanför Sverige" in response.content.decode()
