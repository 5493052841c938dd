"""What every page of a site shows around its content: the kommun's name in the
header, the site's main menu (its home's live, public pages marked "show in
menus", in their order), and the footer's link to the site's accessibility
statement; and the site's own map, for the pages that draw one (cms.maps)."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject
from wagtail.models import Site

from municipalities.models import Municipality

from .maps import site_map
from .models import AccessibilityStatementPage, SiteBranding


def site_chrome(request) -> dict:
    """Read when a template shows them (the admin's pages do not): lazily."""
    found: dict = {}

    def chrome() -> dict:
        if not found:
            found.update(_site_chrome(request))
        return found

    return {
        "site_menu": SimpleLazyObject(lambda: chrome()["site_menu"]),
        "site_brand": SimpleLazyObject(lambda: chrome()["site_brand"]),
        "accessibility_statement_url": SimpleLazyObject(
            lambda: chrome()["accessibility_statement_url"]
        ),
        "site_map": SimpleLazyObject(lambda: site_map(_branding(request))),
    }


def _branding(request) -> SiteBranding | None:
    """The site's settings, read once per request (the header reads them too)."""
    if Site.find_for_request(request) is None:
        return None
    return SiteBranding.for_request(request)


def _site_chrome(request) -> dict:
    site = Site.find_for_request(request)
    if site is None:
        return {
            "site_brand": None,
            "accessibility_statement_url": None,
            "site_menu": [],
        }
    brand = (
        Municipality.objects.filter(site=site).values_list("name", flat=True).first()
    )
    statement = (
        AccessibilityStatementPage.objects.live()
        .child_of(site.root_page)
        .only("url_path")
        .first()
    )
    menu = [
        (page.title, page.get_url(request))
        for page in site.root_page.get_children().live().public().in_menu()
    ]
    return {
        "site_menu": menu,
        "site_brand": brand,
        "accessibility_statement_url": statement.get_url(request)
        if statement
        else None,
    }
