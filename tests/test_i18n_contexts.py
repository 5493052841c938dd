"""One English word, one meaning: where a word of ours has another Swedish
translation than Wagtail's or Django's, ours carries a translation context, so
neither overrides the other."""

import gettext
import html
import re
from pathlib import Path

import django
import pytest
from django.apps import apps
from django.conf import settings

from municipalities.models import Municipality
from tests.support.people import superuser
from tests.test_i18n import swedish_default  # noqa: F401  (the fixture)

pytestmark = pytest.mark.usefixtures("swedish_default")

# Words of ours that Wagtail or Django also translate, with the same meaning.
SAME_MEANING = {"Enter a number.", "Page not found", "Skip to main content", "Timeline"}
# Wagtail's Swedish, corrected: its listings fill in a plural ("Inga
# felanmälningar", not "Ingen felanmälningar").
SAME_MEANING |= {"No %(model_name)s match your query."}


def _catalogue(path: Path) -> dict:
    with path.open("rb") as file:
        return gettext.GNUTranslations(file)._catalog


def _their_catalogues():
    roots = [Path(django.__file__).parent / "conf"]
    roots += [Path(config.path) for config in apps.get_app_configs()]
    for root in roots:
        path = root / "locale/sv/LC_MESSAGES/django.mo"
        # Ours are under the project, theirs installed (a virtualenv may sit in
        # the project too).
        ours = Path(settings.BASE_DIR) in path.parents and (
            "site-packages" not in path.parts
        )
        if path.exists() and not ours:
            yield path, _catalogue(path)


def test_no_word_of_ours_overrides_wagtails_or_djangos_with_another_meaning():
    ours = _catalogue(Path(settings.BASE_DIR) / "locale/sv/LC_MESSAGES/django.mo")
    clashes = {
        (msgid, ours[msgid], theirs[msgid])
        for _, theirs in _their_catalogues()
        for msgid in ours
        if isinstance(msgid, str)
        and msgid
        and msgid in theirs
        and theirs[msgid] != ours[msgid]
        and msgid not in SAME_MEANING
    }
    assert clashes == set()


def _menu_labels(page: str) -> list[str]:
    props = re.search(r'id="wagtail-sidebar-props"[^>]*>(.*?)</script>', page, re.S)
    return re.findall(r'"label": "([^"]*)"', html.unescape(props.group(1)))


@pytest.mark.django_db
def test_wagtails_reports_menu_is_not_our_reports(client):
    client.force_login(superuser())
    page = client.get("/admin/").content.decode()
    labels = _menu_labels(page)
    assert "Rapporter" in labels
    assert "Felanmälningar" not in labels
    assert "Inkorg" in labels


@pytest.mark.django_db
def test_a_content_pages_body_is_its_text_not_an_organisation(client):
    client.force_login(superuser())
    home = Municipality.objects.get(code="1280").site.root_page
    page = client.get(f"/admin/pages/add/cms/contentpage/{home.pk}/").content.decode()
    assert page.count("Brödtext") == 1
    assert "Ansvarig organisation" not in page


@pytest.mark.django_db
def test_the_report_form_and_language_switch_keep_their_words(client):
    page = client.get("/rapportera/").content.decode()
    assert '<label for="id_title">Rubrik' in page
    assert '<button type="submit">Byt</button>' in page


@pytest.mark.django_db
def test_a_routes_body_is_the_responsible_organisation(client):
    client.force_login(superuser())
    page = client.get("/admin/routes/").content.decode()
    assert "Ansvarig organisation" in page
