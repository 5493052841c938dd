"""The inbox's area filter: the reports inside a drawn area.

A district (``district``, by id) is one of the kommun's districts
(municipalities.models.District), set up by its administrators. An area comes
in the query string as ``area``: either a box, ``west,south,
east,north`` in degrees (WGS84), as the inbox map's "Filter to the map's area"
sends it, or a GeoJSON Polygon or MultiPolygon (also inside a Feature).

A box is one range of lat and lon in SQL. A polygon is its bounding box in SQL
and then the exact point-in-polygon test, in SQL too for an area of at most
``SQL_EDGES_MAX`` edges (drawn ones, and districts of up to a thousand
corners): by the even-odd rule, cut into bands of latitude
(``inside_expression``), so the database counts and pages the area from the
``report_inbox_map`` index alone. A larger area is tested by shapely,
vectorised, over the ids, lats and lons in its box only; the ids found go back
to the database as one parameter (a JSON array on SQLite, an array on
PostgreSQL), however many they are. bench/inbox.py measures both over 100,000
reports.
"""

from __future__ import annotations

import json
import math

import django_filters
import numpy as np
import shapely
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Expression, F, IntegerField, QuerySet
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
# The most edges an area's test in SQL has; a larger area is tested in Python.
SQL_EDGES_MAX = 1_000
# Bands of latitude an area's test in SQL is cut into: about EDGES_PER_BAND
# edges each, at most MAX_BANDS.
EDGES_PER_BAND = 8
MAX_BANDS = 32
# The largest slope or intercept written into SQL (degrees of lon per degree
# of lat): lat times it stays far from overflow on both databases.
MAX_SLOPE = 1e12


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


def _edges(geometry):
    """Each edge of ``geometry`` not along a parallel, as (lowest lat, highest
    lat, slope, intercept): the edge's lon at a lat is slope × lat + intercept."""
    for polygon in getattr(geometry, "geoms", [geometry]):
        for ring in (polygon.exterior, *polygon.interiors):
            corners = [point[:2] for point in ring.coords]
            for (x1, y1), (x2, y2) in zip(corners, corners[1:], strict=False):
                if y1 == y2:
                    continue  # no ray along a parallel crosses it
                slope = (x2 - x1) / (y2 - y1)
                yield min(y1, y2), max(y1, y2), slope, x1 - y1 * slope


class InsideArea(Expression):
    """1 where a report's (lon, lat) lies inside the area, else 0: the SQL of
    ``inside_expression``, written as text (with the area's numbers, floats
    computed here, as literals) rather than as a tree of Django expressions,
    which for a district of hundreds of corners took longer to compile than
    the query took to run."""

    output_field = IntegerField()

    def __init__(self, bands, lat=None, lon=None):
        super().__init__()
        # [(top or None, [(low or None, high or None, slope, intercept)],
        #   (west, east) inside for the whole band, or None)]
        self.bands = bands
        self.lat = lat if lat is not None else F("lat")
        self.lon = lon if lon is not None else F("lon")

    def get_source_expressions(self):
        return [self.lat, self.lon]

    def set_source_expressions(self, exprs):
        self.lat, self.lon = exprs

    def as_sql(self, compiler, connection):
        lat, lat_params = compiler.compile(self.lat)
        lon, lon_params = compiler.compile(self.lon)
        if lat_params or lon_params:
            raise ValueError("lat and lon must be columns")

        def band_test(_top, edges, span) -> str:
            if span is None:
                return parity(edges)
            # Inside without testing an edge: most of a large area's reports.
            west, east = span
            return (
                f"(CASE WHEN {lon} > {west!r} AND {lon} < {east!r} THEN 1 "
                f"ELSE {parity(edges)} END)"
            )

        def parity(edges) -> str:
            if not edges:
                return "0"
            terms = []
            for low, high, slope, intercept in edges:
                test = [f"{lon} < {lat} * {slope!r} + {intercept!r}"]
                if low is not None:
                    test.append(f"{lat} > {low!r}")
                if high is not None:
                    test.append(f"{lat} <= {high!r}")
                terms.append(f"CASE WHEN {' AND '.join(test)} THEN 1 ELSE 0 END")
            return f"(({' + '.join(terms)}) & 1)"

        def bands(first: int, end: int) -> str:
            # A row finds its band by halving: a few comparisons of its lat.
            if end - first == 1:
                return band_test(*self.bands[first])
            middle = (first + end) // 2
            top = self.bands[middle - 1][0]
            return (
                f"(CASE WHEN {lat} <= {top!r} THEN {bands(first, middle)} "
                f"ELSE {bands(middle, end)} END)"
            )

        return bands(0, len(self.bands)), []


def inside_expression(geometry):
    """The even-odd test of ``geometry`` (Polygon or MultiPolygon) as an SQL
    expression on a report's lat and lon (``InsideArea``), 1 inside and 0
    outside; None where the area has more than ``SQL_EDGES_MAX`` edges.

    An edge is crossed by the ray eastwards from a report's (lon, lat) when
    lat lies in (lowest, highest lat of the edge] and lon is west of the edge
    at that lat; a point is inside when it crosses an odd number of edges,
    exterior rings and holes alike (a point exactly on an edge may fall
    either side). The area's box is cut into bands of latitude, and a row
    tests only the edges that cross its band (an edge spanning the whole band
    without comparing lat), found by halving: a district of hundreds of
    corners costs each row a few comparisons. A row in the part of its band
    that lies wholly inside the area (``_inside_span``) tests no edge at all:
    most rows, in an area of many reports. The parity is a bitwise and,
    native on both databases (SQLite's MOD would call Python for every row).
    An edge so nearly parallel that its slope is out of bounds (a crafted
    area) leaves the test to Python: no database overflows on it."""
    edges = list(_edges(geometry))
    if not edges or len(edges) > SQL_EDGES_MAX:
        return None
    if not all(
        abs(slope) < MAX_SLOPE and abs(intercept) < MAX_SLOPE
        for _low, _high, slope, intercept in edges
    ):
        return None
    west, south, east, north = geometry.bounds
    count = max(1, min(MAX_BANDS, math.ceil(len(edges) / EDGES_PER_BAND)))
    tops = [south + (north - south) * (i + 1) / count for i in range(count - 1)]
    bands = []
    for lower, upper in zip([-math.inf, *tops], [*tops, math.inf], strict=True):
        crossing = [
            (
                low if low > lower else None,
                high if high < upper else None,
                slope,
                intercept,
            )
            for low, high, slope, intercept in edges
            if low < upper and high > lower
        ]
        span = _inside_span(geometry, max(lower, south), min(upper, north), west, east)
        bands.append((upper if upper != math.inf else None, crossing, span))
    return InsideArea(bands)


def _inside_span(geometry, south, north, west, east):
    """The widest range of lon (west, east) whose every point, at every lat
    from ``south`` to ``north``, lies inside ``geometry``; None if there is
    none. The lon ranges of the band's parts outside the area (each part
    connected, so its bounds are its lon range) are taken off the band's."""
    outside = box(west, south, east, north).difference(geometry)
    blocked = sorted(
        (part.bounds[0], part.bounds[2])
        for part in getattr(outside, "geoms", [outside])
        if not part.is_empty
    )
    free, start = [], west
    for low, high in blocked:
        if low > start:
            free.append((start, low))
        start = max(start, high)
    if start < east:
        free.append((start, east))
    return max(free, key=lambda span: span[1] - span[0], default=None)


def within(reports: QuerySet, geometry) -> QuerySet:
    """The reports of ``reports`` whose point lies inside ``geometry``."""
    west, south, east, north = geometry.bounds
    boxed = reports.filter(lat__range=(south, north), lon__range=(west, east))
    if geometry.equals(box(west, south, east, north)):
        return boxed
    inside = inside_expression(geometry)
    if inside is not None:
        return boxed.alias(area_inside=inside).filter(area_inside=1)
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
    # Named in the list of choices: the outline is read for the one chosen.
    districts = staff_districts(request.user if request else None, CASEWORK_ROLES)
    return districts.defer("geometry")


class DistrictFilter(django_filters.ModelChoiceFilter):
    """The inbox's reports inside one of the user's kommuner's districts."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", _scoped_districts)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        return within(qs, shape(value.geometry))
