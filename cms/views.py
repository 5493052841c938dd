"""The site's brand stylesheet (cms.branding)."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET
from wagtail.models import Site

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
