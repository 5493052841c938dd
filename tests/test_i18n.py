import re
from pathlib import Path

import pytest
from django.urls import clear_url_caches

from tests.support.people import case_handler


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


def _catalogue_entries(path):
    """(flags, msgid, translations) of each entry of a .po file."""
    entries, flags, current, field = [], "", {}, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if current:
                translations = [v for k, v in current.items() if k.startswith("msgstr")]
                entries.append((flags, current.get("msgid", ""), translations))
            flags, current, field = "", {}, None
        elif line.startswith("#,"):
            flags = line
        elif line.startswith("#"):
            continue
        elif line.startswith("msg"):
            field, _, text = line.partition(" ")
            current[field] = text.strip()[1:-1]
        elif line.startswith('"') and field:
            current[field] += line.strip()[1:-1]
    return entries


def test_every_swedish_string_is_translated_and_none_is_a_guess():
    path = Path(__file__).resolve().parent.parent / "locale/sv/LC_MESSAGES/django.po"
    entries = _catalogue_entries(path)
    assert len(entries) > 100
    assert [e for e in entries if "fuzzy" in e[0]] == []
    assert [msgid for _, msgid, found in entries if msgid and not all(found)] == []


@pytest.mark.django_db
def test_an_empty_admin_listing_speaks_swedish(client, swedish_default):
    client.force_login(case_handler())
    page = client.get("/admin/deliveries/").content.decode()
    assert "Det finns inga leveranser att visa." in page
    assert "There are no" not in page
    page = client.get("/admin/inbox/").content.decode()
    assert "Det finns inga felanmälningar att visa." in page


@pytest.mark.django_db
def test_the_staff_sign_in_page_speaks_swedish(client, swedish_default):
    page = client.get("/admin/login/").content.decode()
    assert '<html lang="sv"' in page
    labels = [
        " ".join(label.split())
        for label in re.findall(
            r'<label class="w-field__label"[^>]*>(.*?)<', page, re.S
        )
    ]
    assert labels == ["Användarnamn", "Lösenord"]
    assert "<h1>Logga in till Knutpunkt</h1>" in page
    assert 'placeholder="Ange lösenord"' in page
