"""Security headers: a Content Security Policy for the public pages and one for
the Wagtail admin, and a Permissions-Policy on every response."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

#: The admin as Wagtail 8 needs it: a few of its widgets and panels (inline
#: panels, date pickers) carry inline scripts, and its editors set inline
#: styles, so scripts and styles may be inline; everything else is as strict as
#: on the public pages. No third party is reached from the admin, except the tile
#: server by a page that asks for it (``response.csp_allow_tiles``: the form that
#: files a report for a caller, with its map).
ADMIN_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
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
    url = settings.LEAFLET_CONFIG["TILES"][0][1]
    parts = urlsplit(url.replace("{s}.", "*."))
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def permissions_policy(*, geolocation: bool) -> str:
    features = [f"{name}=()" for name in _UNUSED_FEATURES]
    features.append("geolocation=(self)" if geolocation else "geolocation=()")
    return ", ".join(sorted(features))


class ContentSecurityPolicyMiddleware:
    """The security headers of every response.

    Public pages: scripts only from our own static files, images only from us
    and the tile server. The Wagtail admin: ``ADMIN_POLICY``. Paths in
    ``KNUTPUNKT_CSP_EXEMPT_PREFIXES`` (served documents) keep none. Every
    response: a Permissions-Policy that allows geolocation on the report form
    only, for its own origin, and no other powerful feature.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        tiles = _tile_origin()
        self.policy = "; ".join(
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
        self.admin_policy_with_tiles = ADMIN_POLICY.replace(
            "img-src 'self' data: blob:", f"img-src 'self' data: blob: {tiles}".strip()
        )
        self.permissions = permissions_policy(geolocation=False)
        self.permissions_geolocation = permissions_policy(geolocation=True)

    def __call__(self, request):
        response = self.get_response(request)
        path = request.path
        if path.startswith("/admin/"):
            response.setdefault(
                "Content-Security-Policy",
                self.admin_policy_with_tiles
                if getattr(response, "csp_allow_tiles", False)
                else ADMIN_POLICY,
            )
        elif not path.startswith(settings.KNUTPUNKT_CSP_EXEMPT_PREFIXES):
            response.setdefault("Content-Security-Policy", self.policy)
        match = getattr(request, "resolver_match", None)
        geolocation = match is not None and match.url_name in GEOLOCATION_PAGES
        response.setdefault(
            "Permissions-Policy",
            self.permissions_geolocation if geolocation else self.permissions,
        )
        return response
