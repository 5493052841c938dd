"""A site's own map: the tile layer its maps draw on and where they start
(``cms.models.SiteBranding``), checked when its editors save them, and what
the pages and the security headers make of them. A point an editor gives a
block (``cms.blocks``) is checked to be in Sweden here too.

Without its own, a site's maps keep the platform's: the tile layer configured
for the whole platform (``LEAFLET_CONFIG``) and the view of the kommun's
boundaries (Sweden's on the national site).
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from municipalities.locate import SWEDEN_BOUNDS

#: The placeholders Leaflet fills in a tile URL that we let through: the
#: subdomain, zoom, column, row and the retina suffix.
TILE_PLACEHOLDERS = frozenset({"s", "z", "x", "y", "r"})
TILE_REQUIRED = ("{z}", "{x}", "{y}")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
#: How far in and out a start view may be: from a whole region to a street.
MIN_START_ZOOM = 5
MAX_START_ZOOM = 18


def tile_url_validate(url: str) -> None:
    """An https URL template of map tiles that Leaflet can fill in and the
    pages' CSP can name: {z}, {x} and {y} in it, no other placeholder than a
    leading {s} in the server's name (tile servers' a, b, c)."""
    if not url.startswith("https://"):
        raise ValidationError(
            _("The address of the tiles must begin with https://."), code="scheme"
        )
    missing = [each for each in TILE_REQUIRED if each not in url]
    if missing:
        raise ValidationError(
            _(
                "The address must contain {z}, {x} and {y}, where the map puts "
                "the zoom level and the tile's column and row; %(missing)s is "
                "missing."
            )
            % {"missing": ", ".join(missing)},
            code="placeholders",
        )
    unknown = sorted(
        {f"{{{name}}}" for name in _PLACEHOLDER.findall(url)} - _placeholders()
    )
    if unknown:
        raise ValidationError(
            _(
                "The address may contain only the placeholders {s}, {z}, {x}, "
                "{y} and {r}, not %(unknown)s."
            )
            % {"unknown": ", ".join(unknown)},
            code="placeholders",
        )
    host = urlsplit(url).netloc
    if "{" in host.removeprefix("{s}.") or "@" in host:
        raise ValidationError(
            _(
                "The server's name may not contain a placeholder, except {s}. "
                "at its beginning, nor a user name or password."
            ),
            code="host",
        )
    filled = url.replace("{s}.", "a.", 1)
    for name in TILE_PLACEHOLDERS:
        filled = filled.replace(f"{{{name}}}", "0")
    try:
        URLValidator(schemes=["https"])(filled)
    except ValidationError:
        raise ValidationError(
            _("This is not a valid web address of map tiles."), code="invalid"
        ) from None


def _placeholders() -> set[str]:
    return {f"{{{name}}}" for name in TILE_PLACEHOLDERS}


def tile_origin(url: str) -> str:
    """The origin a CSP names for a tile URL template: a leading {s} becomes
    the wildcard ``*.``; nothing for a URL without a server."""
    parts = urlsplit(url.replace("{s}.", "*.", 1))
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def _between(value: float, low: float, high: float, message: str) -> None:
    if not low <= value <= high:
        # The limits in the language's own way of writing numbers (55,14).
        raise ValidationError(
            message,
            code="outside_sweden",
            params={"min": number_format(low, 2), "max": number_format(high, 2)},
        )


def latitude_validate(value: float) -> None:
    """A place in Sweden's bounds, north to south: a site's start view or a
    block's point (``cms.blocks.LatestReportsBlock``)."""
    _between(
        value,
        SWEDEN_BOUNDS[1],
        SWEDEN_BOUNDS[3],
        _("The place must lie in Sweden: a latitude from %(min)s to %(max)s."),
    )


def longitude_validate(value: float) -> None:
    """A place in Sweden's bounds, west to east."""
    _between(
        value,
        SWEDEN_BOUNDS[0],
        SWEDEN_BOUNDS[2],
        _("The place must lie in Sweden: a longitude from %(min)s to %(max)s."),
    )


def zoom_validate(value: int) -> None:
    if not MIN_START_ZOOM <= value <= MAX_START_ZOOM:
        raise ValidationError(
            _("Give a zoom level from %(min)d (a region) to %(max)d (a street)."),
            code="zoom",
            params={"min": MIN_START_ZOOM, "max": MAX_START_ZOOM},
        )


def site_map(branding) -> dict:
    """What the pages' maps read from a site's settings: its own tile layer
    (None: the platform's) and its start view as "lat,lon,zoom" ("": the
    kommun's extent). The attribution is the editors' plain text, escaped
    here because Leaflet shows attributions as HTML."""
    tiles = None
    if branding is not None and branding.tile_url:
        tiles = {
            "url": branding.tile_url,
            "attribution": html.escape(branding.tile_attribution),
        }
    view = ""
    if branding is not None and branding.has_start_view:
        view = (
            f"{branding.map_latitude:.6f},{branding.map_longitude:.6f},"
            f"{branding.map_zoom:d}"
        )
    return {"tiles": tiles, "view": view}
