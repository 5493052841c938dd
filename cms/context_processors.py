"""What every page of a site shows around its content: the kommun's name in the
header, and the footer's link to the site's accessibility statement."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject
from wagtail.models import Site

from municipalities.models import Municipality

from .models import AccessibilityStatementPage


def site_chrome(request) -> dict:
    """Read when a template shows them (the admin's pages do not): lazily."""
    found: dict = {}

    def chrome() -> dict:
        if not found:
            found.update(_site_chrome(request))
        return found

    return {
        "site_brand": SimpleLazyObject(lambda: chrome()["site_brand"]),
        "accessibility_statement_url": SimpleLazyObject(
            lambda: chrome()["accessibility_statement_url"]
        ),
    }


def _site_chrome(request) -> dict:
    site = Site.find_for_request(request)
    if site is None:
        return {"site_brand": None, "accessibility_statement_url": None}
    brand = (
        Municipality.objects.filter(site=site).values_list("name", flat=True).first()
    )
    statement = (
        AccessibilityStatementPage.objects.live()
        .child_of(site.root_page)
        .only("url_path")
        .first()
    )
    return {
        "site_brand": brand,
        "accessibility_statement_url": statement.get_url(request)
        if statement
        else None,
    }
