"""Security headers: a Content Security Policy for the public pages and one for
the Wagtail admin, and a Permissions-Policy on every response."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, InterfaceError
from wagtail.models import Site

from cms.maps import tile_origin
from cms.models import SiteBranding


def admin_policy(tiles: str = "") -> str:
    """The admin as Wagtail 8 needs it: a few of its widgets and panels (inline
    panels, date pickers) carry inline scripts, and its editors set inline
    styles, so scripts and styles may be inline; everything else is as strict
    as on the public pages. The one third party reached from the admin is the
    configured tile server (``tiles``, its origin), for the report screen's
    map's images."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' 'unsafe-inline'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob: {tiles}".strip(),
            "connect-src 'self'",
            "font-src 'self' data:",
            "media-src 'self'",
            "frame-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            # Page previews are framed by the editor.
            "frame-ancestors 'self'",
        ]
    )


#: Powerful features no page of ours uses; geolocation is added per page.
_UNUSED_FEATURES = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "gyroscope",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
#: The pages that may ask for the visitor's position (by URL name): the report
#: form's "use my position".
GEOLOCATION_PAGES = frozenset({"report-new"})


def _tile_origin() -> str:
    return tile_origin(settings.LEAFLET_CONFIG["TILES"][0][1])


def public_policy(tiles: str = "") -> str:
    """The public pages': scripts, styles and connections only our own; images
    also from the tile servers (``tiles``, their origins); no framing."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob: {tiles}".strip(),
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def site_tile_origin(request) -> str:
    """The origin of the request's site's own tile layer (cms.maps), if it has
    one. Its settings are read once per request: a page has read them already
    for its header. Nothing when they cannot be read (the database may be what
    failed): the page then draws no map of the site's own."""
    try:
        if Site.find_for_request(request) is None:
            return ""
        return tile_origin(SiteBranding.for_request(request).tile_url)
    except (DatabaseError, InterfaceError):
        return ""


#: The admin's policy, for the configured tile server.
ADMIN_POLICY = admin_policy(_tile_origin())


def permissions_policy(*, geolocation: bool) -> str:
    features = [f"{name}=()" for name in _UNUSED_FEATURES]
    features.append("geolocation=(self)" if geolocation else "geolocation=()")
    return ", ".join(sorted(features))


class ContentSecurityPolicyMiddleware:
    """The security headers of every response.

    Public pages: scripts only from our own static files, images only from us
    and the tile server; a page of a site with its own tile layer also from
    that layer's server (``site_tile_origin``: only HTML pages draw maps). The
    Wagtail admin: ``admin_policy``. Paths in
    ``KNUTPUNKT_CSP_EXEMPT_PREFIXES`` (served documents) keep none. Every
    response: a Permissions-Policy that allows geolocation on the report form
    only, for its own origin, and no other powerful feature.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.tiles = _tile_origin()
        self.admin_policy = admin_policy(self.tiles)
        self.policy = public_policy(self.tiles)
        self.permissions = permissions_policy(geolocation=False)
        self.permissions_geolocation = permissions_policy(geolocation=True)

    def __call__(self, request):
        response = self.get_response(request)
        path = request.path
        if path.startswith("/admin/"):
            response.setdefault("Content-Security-Policy", self.admin_policy)
        elif not path.startswith(settings.KNUTPUNKT_CSP_EXEMPT_PREFIXES):
            if "Content-Security-Policy" not in response:
                response["Content-Security-Policy"] = self._public(request, response)
        match = getattr(request, "resolver_match", None)
        geolocation = match is not None and match.url_name in GEOLOCATION_PAGES
        response.setdefault(
            "Permissions-Policy",
            self.permissions_geolocation if geolocation else self.permissions,
        )
        return response

    def _public(self, request, response) -> str:
        if not response.get("Content-Type", "").startswith("text/html"):
            return self.policy
        own = site_tile_origin(request)
        if not own or own == self.tiles:
            return self.policy
        return public_policy(f"{self.tiles} {own}".strip())
