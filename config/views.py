"""The site's own error pages: in the visitor's language, with the site's
navigation and brand (Django's defaults render the 500 and CSRF pages without
the request, so without either)."""

from __future__ import annotations

import logging

from django.http import HttpResponseForbidden, HttpResponseServerError
from django.template.loader import render_to_string

logger = logging.getLogger("knutpunkt.http")


def server_error(request):
    """500 with the site's chrome; if rendering that fails too (the database
    may be what failed), a page that needs nothing but the templates."""
    try:
        html = render_to_string("500.html", request=request)
    except Exception:
        logger.exception("The error page could not be rendered with the site")
        html = render_to_string("500_plain.html")
    return HttpResponseServerError(html)


def csrf_failure(request, reason=""):
    """A form sent without a valid CSRF token: say what to do, in the site."""
    logger.warning("CSRF check failed on %s: %s", request.path, reason)
    return HttpResponseForbidden(render_to_string("403_csrf.html", request=request))
