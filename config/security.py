"""Content Security Policy for the public pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def _tile_origin() -> str:
    url = settings.LEAFLET_CONFIG["TILES"][0][1]
    parts = urlsplit(url.replace("{s}.", "*."))
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


class ContentSecurityPolicyMiddleware:
    """Scripts only from our own static files, images only from us and the tile
    server. The Wagtail admin keeps its own rules (it needs inline scripts)."""

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

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(settings.KNUTPUNKT_CSP_EXEMPT_PREFIXES):
            response.setdefault("Content-Security-Policy", self.policy)
        return response
