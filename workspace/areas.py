"""The inbox's area filter: the reports inside a drawn area.

A district (``district``, by id) is one of the kommun's districts
(municipalities.models.District), set up by its administrators. An area comes
in the query string as ``area``: either a box, ``west,south,
east,north`` in degrees (WGS84), as the inbox map's "Filter to the map's area"
sends it, or a GeoJSON Polygon or MultiPolygon (also inside a Feature).

A box is one range of lat and lon in SQL. A polygon is its bounding box in SQL
and then the exact point-in-polygon test. For a drawn area, of at most
``SQL_EDGES_MAX`` edges, that test is in SQL too, by the even-odd rule: a point
is inside when a ray from it eastwards crosses an odd number of the edges
(each edge one comparison with a line in lat, the parity Django's XOR of the
edges), so the database counts and pages the area from the ``report_inbox_map``
index alone. A larger area (a district drawn from a map of the kommun, with up
to thousands of corners) is tested by shapely, vectorised, over the ids, lats
and lons in its box only; the ids found go back to the database as one
parameter (a JSON array on SQLite, an array on PostgreSQL), however many they
are. bench/inbox.py measures both over 100,000 reports.
"""

from __future__ import annotations

import json
import operator
from functools import reduce

import django_filters
import numpy as np
import shapely
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _
from shapely.geometry import box, shape
from wagtail.admin.active_filters import (
    ActiveFilter,
    BaseFilterAdapter,
    register_filter_adapter_class,
)

from municipalities.districts import geometry_from_geojson
from municipalities.staff import CASEWORK_ROLES, staff_districts
from reports.map import parse_bbox

# Bound the work one query string can ask for.
MAX_AREA_CHARS = 100_000
# The most edges an area's test in SQL has (each row evaluates every edge);
# a larger area is tested in Python.
SQL_EDGES_MAX = 64


def parse_area(raw: str | None):
    """The area a query string's ``area`` names, as a shapely geometry, or a
    ValidationError saying what is wrong with it."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("This parameter is required."))
    if len(text) > MAX_AREA_CHARS:
        raise ValidationError(
            _("The area is too large to send: at most %(max)d characters.")
            % {"max": MAX_AREA_CHARS}
        )
    if not text.startswith("{"):
        bbox = parse_bbox(text)
        if bbox.west == bbox.east or bbox.south == bbox.north:
            raise ValidationError(_("The box has no area."))
        return box(bbox.west, bbox.south, bbox.east, bbox.north)
    return geometry_from_geojson(text)


def _ids_param(ids: list[int]) -> RawSQL:
    """The ids as one query parameter, a subquery ``pk__in`` can take."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (ids,))
    return RawSQL("SELECT value FROM json_each(%s)", (json.dumps(ids),))


def inside_q(geometry) -> Q | None:
    """The even-odd test of ``geometry`` (Polygon or MultiPolygon) as a filter
    on reports, or None where it has more than ``SQL_EDGES_MAX`` edges.

    An edge from (x1, y1) to (x2, y2) is crossed by the ray eastwards from a
    report's (lon, lat) when lat lies in (min y, max y] and lon is west of the
    edge at that lat; a point is inside when it crosses an odd number of
    edges, exterior rings and holes alike. A point exactly on an edge may
    fall either side."""
    edges = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        for ring in (polygon.exterior, *polygon.interiors):
            corners = [point[:2] for point in ring.coords]
            for (x1, y1), (x2, y2) in zip(corners, corners[1:], strict=False):
                if y1 == y2:
                    continue  # no ray along a parallel crosses it
                slope = (x2 - x1) / (y2 - y1)
                edges.append(
                    Q(
                        lat__gt=min(y1, y2),
                        lat__lte=max(y1, y2),
                        lon__lt=F("lat") * slope + (x1 - y1 * slope),
                    )
                )
    if not edges or len(edges) > SQL_EDGES_MAX:
        return None
    return reduce(operator.xor, edges)


def within(reports: QuerySet, geometry) -> QuerySet:
    """The reports of ``reports`` whose point lies inside ``geometry``."""
    west, south, east, north = geometry.bounds
    boxed = reports.filter(lat__range=(south, north), lon__range=(west, east))
    if geometry.equals(box(west, south, east, north)):
        return boxed
    inside = inside_q(geometry)
    if inside is not None:
        return boxed.filter(inside)
    rows = np.array(
        list(boxed.order_by().values_list("pk", "lon", "lat")), dtype=float
    ).reshape(-1, 3)
    inside = shapely.intersects_xy(geometry, rows[:, 1], rows[:, 2])
    ids = rows[inside, 0].astype(np.int64).tolist()
    return reports.filter(pk__in=_ids_param(ids))


class AreaField(forms.CharField):
    """A drawn area in a form: a box or GeoJSON, cleaned to a shapely geometry."""

    def to_python(self, value):
        text = super().to_python(value)
        return parse_area(text) if text else None


class AreaFilter(django_filters.Filter):
    """The inbox's reports inside an area (see ``within``)."""

    field_class = AreaField

    def filter(self, qs, value):
        if value is None:
            return qs
        return within(qs, value)


class AreaFilterAdapter(BaseFilterAdapter):
    """The active area filter's label: what kind of area, not its
    coordinates."""

    def get_active_filters(self):
        value = self.value
        if value is None:
            return
        west, south, east, north = value.bounds
        if value.equals(box(west, south, east, north)):
            label = _("the map’s area")
        else:
            corners = sum(
                len(polygon.exterior.coords) - 1
                for polygon in getattr(value, "geoms", [value])
            )
            label = _("a drawn area with %(count)d corners") % {"count": corners}
        yield ActiveFilter(
            self.bound_field.auto_id,
            self.filter.label,
            label,
            self.get_url_without_filter_param(self.name),
        )


register_filter_adapter_class(AreaFilter, AreaFilterAdapter)


def _scoped_districts(request):
    return staff_districts(request.user if request else None, CASEWORK_ROLES)


class DistrictFilter(django_filters.ModelChoiceFilter):
    """The inbox's reports inside one of the user's kommuner's districts."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", _scoped_districts)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        return within(qs, shape(value.geometry))
