"""A kommun's brand on its site: set by its editors, checked for contrast,
shown on every page of its site and no other's (cms.models.SiteBranding)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from wagtail.models import Site

from cms.branding import contrast
from cms.models import SiteBranding
from municipalities.choices import StaffRole
from municipalities.models import Municipality
from tests.support.casework import LUND, MALMO, as_user
from tests.support.people import staff_user, superuser
from tests.support.photos import image_in


def site_of(code) -> Site:
    return Municipality.objects.get(code=code).site


def settings_url(code) -> str:
    return reverse(
        "wagtailsettings:edit", args=["cms", "sitebranding", site_of(code).pk]
    )


def form(**fields):
    data = {
        "brand_colour": "#1d4f91",
        "brand_text_colour": "#ffffff",
        "contact_phone": "",
        "contact_email": "",
        "contact_address": "",
        "web_address": "",
        "footer_links-count": "0",
        "social_links-count": "0",
    }
    data.update(fields)
    return data


def test_contrast_is_wcags():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48
    assert contrast("#ffffff", "#ffffff") == 1.0


@pytest.mark.django_db
def test_an_editor_brands_their_own_site_and_it_shows_on_every_page(client):
    editor = staff_user("malmo-varumarke", MALMO, StaffRole.EDITOR)
    as_user(client, editor)
    logo = image_in(MALMO, "malmos-logga")

    # Too little contrast: said at the field, nothing saved.
    refused = client.post(
        settings_url(MALMO), form(brand_colour="#ffd700", brand_text_colour="#ffffff")
    )
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "at least 4.5:1" in html
    assert SiteBranding.for_site(site_of(MALMO)).brand_colour == "#1d4f91"

    saved = client.post(
        settings_url(MALMO),
        form(
            logo=logo.pk,
            brand_colour="#6b0f1a",
            brand_text_colour="#ffffff",
            contact_phone="040-34 10 00",
            web_address="https://malmo.se/",
            **{
                "footer_links-count": "1",
                "footer_links-0-type": "link",
                "footer_links-0-deleted": "",
                "footer_links-0-order": "0",
                "footer_links-0-value-text": "Om kakor",
                "footer_links-0-value-url": "https://malmo.se/kakor",
            },
        ),
    )
    assert saved.status_code == 302, saved.content.decode()[:3000]

    # Lund's settings are not Malmö's editor's to open.
    assert client.get(settings_url(LUND)).status_code in (302, 403)

    client.logout()
    for path in ("/", "/rapportera/", "/rapporter/", "/mina-sidor/", "/finns-inte/"):
        page = client.get(path, HTTP_HOST="malmo.localhost")
        html = page.content.decode()
        assert "malmos-logga" in html or "brand-logo" in html, path
        assert "040-34 10 00" in html and "Om kakor" in html, path
        assert "https://malmo.se/" in html, path
    lund = client.get("/rapportera/", HTTP_HOST="lund.localhost").content.decode()
    assert "040-34 10 00" not in lund and "brand-logo" not in lund

    version = SiteBranding.for_site(site_of(MALMO)).stylesheet_version
    assert f"/brand.css?v={version}" in html
    css = client.get("/brand.css", HTTP_HOST="malmo.localhost")
    assert css["Content-Type"].startswith("text/css")
    assert "#6b0f1a" in css.content.decode()
    assert (
        "#6b0f1a"
        not in client.get("/brand.css", HTTP_HOST="lund.localhost").content.decode()
    )


@pytest.mark.django_db
def test_contrast_is_written_as_the_language_writes_numbers():
    branding = SiteBranding(
        site=site_of(MALMO), brand_colour="#ffd700", brand_text_colour="#ffffff"
    )
    with translation.override("sv"), pytest.raises(ValidationError) as swedish:
        branding.full_clean()
    said = " ".join(swedish.value.message_dict["brand_colour"])
    assert "1,4:1" in said and "4,5:1" in said and "1.4" not in said
    with translation.override("en"), pytest.raises(ValidationError) as english:
        branding.full_clean()
    said = " ".join(english.value.message_dict["brand_colour"])
    assert "contrast 1.4:1; at least 4.5:1" in said


@pytest.mark.django_db
def test_the_national_site_has_its_own_branding(client):
    national = Site.objects.get(hostname="localhost")
    as_user(client, superuser())
    national_url = reverse(
        "wagtailsettings:edit", args=["cms", "sitebranding", national.pk]
    )
    saved = client.post(
        national_url,
        form(brand_colour="#2b2b6b", contact_phone="0771-00 00 00"),
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]

    national_branding = SiteBranding.for_site(national)
    malmo_branding = SiteBranding.for_site(site_of(MALMO))
    assert national_branding.pk != malmo_branding.pk
    assert malmo_branding.brand_colour == "#1d4f91"
    assert malmo_branding.contact_phone == ""
    client.logout()
    assert "0771-00 00 00" in client.get("/", HTTP_HOST="localhost").content.decode()
    assert (
        "0771-00 00 00"
        not in client.get("/", HTTP_HOST="malmo.localhost").content.decode()
    )
    css = client.get("/brand.css", HTTP_HOST="localhost").content.decode()
    assert "#2b2b6b" in css
    assert "#2b2b6b" not in (
        client.get("/brand.css", HTTP_HOST="malmo.localhost").content.decode()
    )

    # A kommun's editors may not open the national site's settings.
    as_user(client, staff_user("malmo-nationellt", MALMO, StaffRole.EDITOR))
    assert client.get(national_url).status_code in (302, 403)
    refused = client.post(national_url, form(brand_colour="#6b0f1a"))
    assert refused.status_code in (302, 403)
    assert SiteBranding.for_site(national).brand_colour == "#2b2b6b"
