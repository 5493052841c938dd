"""The site's brand stylesheet (cms.branding) and its page search."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from wagtail.models import Page, Site

from .branding import stylesheet
from .models import SiteBranding


@require_GET
def brand_css(request):
    """The colours of the request's site. Its URL carries their version
    (``?v=``), so browsers may keep each for a day."""
    site = Site.find_for_request(request)
    branding = SiteBranding.for_site(site) if site else SiteBranding()
    response = HttpResponse(
        stylesheet(branding.brand_colour, branding.brand_text_colour),
        content_type="text/css; charset=utf-8",
    )
    response["Cache-Control"] = "public, max-age=86400"
    return response


SEARCH_MAX_CHARS = 200
SEARCH_PAGE_SIZE = 10


@require_GET
def site_search(request):
    """Search the live, public pages of the request's site (Wagtail search)."""
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_CHARS]
    site = Site.find_for_request(request)
    page = None
    if query and site is not None:
        pages = (
            Page.objects.live()
            .public()
            .descendant_of(site.root_page, inclusive=True)
            .specific()
            .search(query)
        )
        page = Paginator(pages, SEARCH_PAGE_SIZE).get_page(request.GET.get("p"))
    return render(request, "cms/search.html", {"query": query, "results": page})
