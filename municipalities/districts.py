"""Areas drawn on the map, as GeoJSON: a kommun's districts (stadsdelar), and
the areas staff draw to filter the inbox (workspace.areas). One validation for
both, with shapely."""

from __future__ import annotations

import json

import shapely
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from shapely.geometry import shape

# Bound the work one area can ask for.
MAX_VERTICES = 5_000


def geometry_from_geojson(text: str | dict):
    """A valid Polygon or MultiPolygon in WGS84 from GeoJSON (also inside a
    Feature), or a ValidationError saying what is wrong with it."""
    try:
        data = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        raise ValidationError(_("The area is neither a box nor GeoJSON.")) from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in (
        "Polygon",
        "MultiPolygon",
    ):
        raise ValidationError(_("The area must be a GeoJSON Polygon or MultiPolygon."))
    try:
        geometry = shape(data)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        raise ValidationError(_("The area's coordinates are malformed.")) from None
    if geometry.is_empty:
        raise ValidationError(_("The area is empty."))
    if shapely.get_num_coordinates(geometry) > MAX_VERTICES:
        raise ValidationError(
            _("The area has too many corners: at most %(max)d.") % {"max": MAX_VERTICES}
        )
    west, south, east, north = geometry.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValidationError(
            _("The area's coordinates must be longitude and latitude in degrees.")
        )
    if not geometry.is_valid:
        raise ValidationError(
            _("The area is not a valid polygon: %(reason)s.")
            % {"reason": shapely.is_valid_reason(geometry)}
        )
    if geometry.area == 0:
        raise ValidationError(_("The area is empty."))
    return geometry
