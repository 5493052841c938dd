"""The public map of reports: the reports in a bounding box, clustered when zoomed out.

Both answers come from the ``report_map`` index on ``(LatBand(lat), lon, lat, …)``.
A bounding box is one index range per latitude band of 1/256° (about 434 m),
bounded by longitude, and the index holds every column the map filters, sorts and
groups on. At street level the answer is the newest reports in the box. Zoomed out
it is one cluster per cell of a grid whose cells double in size with every zoom
level out, counted by the database, so that no answer has more than
``MAX_FEATURES`` features however many reports there are.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import (
    Avg,
    BigIntegerField,
    Case,
    CharField,
    Count,
    F,
    Func,
    Min,
    QuerySet,
    Value,
    When,
)
from django.urls import reverse
from django.utils.translation import gettext as _

from municipalities.models import Category

from .choices import CLOSED_STATUSES, OPEN_STATUSES, PUBLIC_STATUSES, ReportStatus
from .models import LAT_BANDS_PER_DEGREE, LatBand, Report

# Longitude columns per degree: half as many as latitude bands, so that a base
# cell (one band by one column, 1/256° by 1/128°) is square at 60° N, where a
# degree of longitude is half as long as a degree of latitude.
LON_COLUMNS_PER_DEGREE = 128
# Individual reports from this zoom on; clusters below it.
STREET_ZOOM = 14
MAX_ZOOM = 22
# The most features in one answer: grid cells when clustered.
MAX_FEATURES = 500
# The newest reports shown at street level. Fewer than MAX_FEATURES: every report
# costs a table read, a few objects and its JSON, 250 markers already crowd a
# square kilometre of a city centre, and 500 would take the answer past 15 ms on
# PostgreSQL (bench/map.py measures both).
STREET_LIMIT = 250
# A street-level box spans at most this many base cells either way (about 14 km);
# a larger box is clustered whatever the zoom, so a bad client cannot ask for the
# newest reports of the whole country.
STREET_MAX_CELLS = 32
# At zoom 13 a cluster is one base cell, about 45 pixels wide; every zoom level out
# doubles its side.
CLUSTER_BASE_ZOOM = 13
# Above this many bands a box is one index range, not one range per band.
MAX_BAND_LIST = 256

STATUS_GROUPS = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES}


def lat_band_for(lat: float) -> int:
    """The band ``reports.models.LatBand`` gives a latitude in the database."""
    return math.floor((lat + 90.0) * LAT_BANDS_PER_DEGREE)


def lon_column_for(lon: float) -> int:
    return math.floor((lon + 180.0) * LON_COLUMNS_PER_DEGREE)


@dataclass(frozen=True)
class BBox:
    west: float
    south: float
    east: float
    north: float


class MapReport(NamedTuple):
    """One public report as the map and the list beside it show it."""

    id: int
    lat: float
    lon: float
    title: str
    category_name: str
    category_slug: str
    status: str
    municipality_name: str
    # ISO 8601 in UTC ("2026-11-22T09:15:00Z"), as the database writes it.
    created_at: str
    updated_at: str
    # Only when the reporter chose to show it; otherwise empty.
    reporter_name: str
    status_label: str
    url: str

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.created_at)

    @property
    def updated(self) -> datetime:
        return datetime.fromisoformat(self.updated_at)


class MapCluster(NamedTuple):
    """The public reports in one grid cell, drawn at their mean position."""

    lat: float
    lon: float
    count: int


@dataclass(frozen=True)
class MapResult:
    """What the map shows for a box and zoom.

    At street level ``reports`` holds the newest reports in the box (at most
    ``STREET_LIMIT``; ``truncated`` says whether there were more) and ``clusters``
    is empty. Zoomed out (``clustered``), ``clusters`` holds the grid cells with
    more than one report and ``reports`` the cells with exactly one. Clusters
    count whole cells, also where a cell reaches past the box, so that the counts
    stay put while the map pans.
    """

    bbox: BBox
    zoom: int
    clustered: bool
    truncated: bool
    reports: list[MapReport]
    clusters: list[MapCluster]


class _FloorInt(Func):
    """floor() of a non-negative number as an integer.

    SQLite's CAST truncates, which is floor for x >= 0, and needs none of the
    optional math functions.
    """

    template = "CAST(FLOOR(%(expressions)s) AS BIGINT)"
    output_field = BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(%(expressions)s AS INTEGER)",
            **extra_context,
        )


class _IsoUtc(Func):
    """A datetime as ISO 8601 text in UTC, written by the database: faster than
    making a Python datetime of it and text again, hundreds of times an answer."""

    template = (
        "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    )
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores UTC without an offset. The format is a parameter: a "%"
        # in the SQL itself would upset Django's query logging.
        strftime = Func(
            Value("%Y-%m-%dT%H:%M:%SZ"),
            *self.get_source_expressions(),
            function="strftime",
            output_field=CharField(),
        )
        return strftime.as_sql(compiler, connection, **extra_context)


# --- Parsing the query string -------------------------------------------------


# A decimal number as map clients write it: no "nan", "inf", "1_000" or hex.
NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
MAX_CATEGORIES = 100


def _shown(text: str) -> str:
    """Input quoted back in a message, cut short."""
    return text if len(text) <= 40 else text[:39] + "…"


def _required(raw: str | None) -> str:
    if raw is None or not raw.strip():
        raise ValidationError(_("This parameter is required."))
    return raw.strip()


def parse_bbox(raw: str | None) -> BBox:
    """``west,south,east,north`` in degrees (WGS84), or a ValidationError saying why."""
    text = _required(raw)
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise ValidationError(
            _(
                "Give four comma-separated numbers, west,south,east,north; "
                "got %(count)d values."
            )
            % {"count": len(parts)}
        )
    names = ("west", "south", "east", "north")
    values: dict[str, float] = {}
    errors: list[str] = []
    for name, part in zip(names, parts, strict=True):
        if not NUMBER_RE.fullmatch(part):
            errors.append(
                _("%(name)s: “%(value)s” is not a number.")
                % {"name": name, "value": _shown(part)}
            )
            continue
        value = float(part)
        limit = 180.0 if name in ("west", "east") else 90.0
        if not -limit <= value <= limit:
            errors.append(
                _("%(name)s must be between -%(limit)d and %(limit)d; got %(value)s.")
                % {"name": name, "limit": limit, "value": _shown(part)}
            )
            continue
        values[name] = value
    if errors:
        raise ValidationError(errors)
    bbox = BBox(**values)
    if bbox.west > bbox.east:
        errors.append(
            _(
                "west (%(west)s) is east of east (%(east)s); a box may not cross "
                "the 180th meridian."
            )
            % {"west": bbox.west, "east": bbox.east}
        )
    if bbox.south > bbox.north:
        errors.append(
            _("south (%(south)s) is north of north (%(north)s).")
            % {"south": bbox.south, "north": bbox.north}
        )
    if errors:
        raise ValidationError(errors)
    return bbox


def parse_zoom(raw: str | None) -> int:
    text = _required(raw)
    if not re.fullmatch(r"[0-9]+", text):
        raise ValidationError(
            _("“%(value)s” is not a whole number.") % {"value": _shown(text)}
        )
    if len(text) > 3 or int(text) > MAX_ZOOM:
        raise ValidationError(
            _("Must be between 0 and %(max)d; got %(value)s.")
            % {"max": MAX_ZOOM, "value": _shown(text)}
        )
    return int(text)


def _comma_list(raw: str | None) -> list[str]:
    """The distinct non-empty items of a comma-separated value, in order."""
    items = [item.strip() for item in (raw or "").split(",")]
    return list(dict.fromkeys(item for item in items if item))


def parse_statuses(raw: str | None) -> frozenset[str] | None:
    """``open``, ``closed`` or public status values, comma-separated; None for all.

    As in Open311, ``open`` and ``closed`` name every open and every closed status,
    so they also stand for ReportStatus.OPEN and ReportStatus.CLOSED together with
    their kin.
    """
    names = _comma_list(raw)
    if not names:
        return None
    statuses: set[str] = set()
    unknown = []
    for name in names:
        if name in STATUS_GROUPS:
            statuses |= STATUS_GROUPS[name]
        elif name in PUBLIC_STATUSES:
            statuses.add(name)
        else:
            unknown.append(name)
    if unknown:
        allowed = ", ".join(["open", "closed", *sorted(PUBLIC_STATUSES)])
        raise ValidationError(
            _("Unknown status %(unknown)s; use one of: %(allowed)s.")
            % {
                "unknown": ", ".join(f"“{_shown(u)}”" for u in unknown[:10]),
                "allowed": allowed,
            }
        )
    return frozenset(statuses)


def parse_categories(raw: str | None) -> list[Category] | None:
    """Categories by slug, comma-separated; None for all."""
    slugs = _comma_list(raw)
    if not slugs:
        return None
    if len(slugs) > MAX_CATEGORIES:
        raise ValidationError(
            _("At most %(max)d categories; got %(count)d.")
            % {"max": MAX_CATEGORIES, "count": len(slugs)}
        )
    found = {c.slug: c for c in Category.objects.filter(slug__in=slugs)}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise ValidationError(
            _("Unknown category %(unknown)s.")
            % {"unknown": ", ".join(f"“{_shown(u)}”" for u in unknown[:10])}
        )
    return [found[slug] for slug in slugs]


def parse_map_query(params: Mapping[str, str]) -> dict:
    """The keyword arguments of ``reports_in_bbox`` from a query string.

    Raises a ValidationError keyed by every parameter at fault.
    """
    parsers = {
        "bbox": parse_bbox,
        "zoom": parse_zoom,
        "status": parse_statuses,
        "category": parse_categories,
    }
    values: dict[str, object] = {}
    errors: dict[str, list[str]] = {}
    for name, parse in parsers.items():
        try:
            values[name] = parse(params.get(name))
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return {
        "bbox": values["bbox"],
        "zoom": values["zoom"],
        "statuses": values["status"],
        "categories": values["category"],
    }


# --- Queries ------------------------------------------------------------------


def _filtered(
    statuses: Collection[str] | None, categories: Sequence[Category | int] | None
) -> QuerySet:
    reports = Report.objects.public()
    if statuses is not None:
        reports = reports.filter(status__in=list(statuses))
    if categories is not None:
        ids = [c if isinstance(c, int) else c.pk for c in categories]
        # "+ 0" keeps the (category, status) index out of the plan: without
        # statistics SQLite prefers it to the map index and then reads every
        # report of the category in the country. Within a box the map index is
        # the selective one, and it holds the category too.
        reports = reports.alias(category_nr=F("category_id") + 0).filter(
            category_nr__in=ids
        )
    return reports


def _in_bands(reports: QuerySet, first: int, last: int) -> QuerySet:
    reports = reports.alias(lat_band=LatBand("lat"))
    if last - first < MAX_BAND_LIST:
        # One index range per band, bounded by lon; a range of bands would leave
        # lon to be checked entry by entry across the whole strip.
        return reports.filter(lat_band__in=list(range(first, last + 1)))
    return reports.filter(lat_band__range=(first, last))


def _report_url_parts() -> tuple[str, str]:
    """What comes before and after the id in ``Report.get_absolute_url()``.

    One reverse() per answer rather than one per report; the URL depends on the
    active language, so it is not cached.
    """
    marker = "9081726354"
    before, after = reverse("report-detail", args=[int(marker)]).split(marker)
    return before, after


def _map_reports(ids_query: QuerySet | list[int]) -> list[MapReport]:
    before, after = _report_url_parts()
    labels = {value: str(label) for value, label in ReportStatus.choices}
    rows = (
        # public() again: a report hidden since the ids were read stays hidden.
        Report.objects.public()
        .filter(pk__in=ids_query)
        .order_by("-created_at", "-pk")
        .values_list(
            "pk",
            "lat",
            "lon",
            "title",
            "category__name",
            "category__slug",
            "status",
            "municipality__name",
            _IsoUtc("created_at"),
            _IsoUtc("updated_at"),
            # The name never leaves the database unless the reporter chose to show it.
            Case(When(show_name=True, then=F("name")), default=Value("")),
        )
    )
    return [MapReport(*row, labels[row[6]], f"{before}{row[0]}{after}") for row in rows]


def _cells(bbox: BBox, shift: int) -> tuple[int, int, int, int]:
    """The first and last row and column of the box at a cluster level."""
    return (
        lat_band_for(bbox.south) >> shift,
        lat_band_for(bbox.north) >> shift,
        lon_column_for(bbox.west) >> shift,
        lon_column_for(bbox.east) >> shift,
    )


def _cell_count(bbox: BBox, shift: int) -> int:
    row0, row1, col0, col1 = _cells(bbox, shift)
    return (row1 - row0 + 1) * (col1 - col0 + 1)


def is_street_level(bbox: BBox, zoom: int) -> bool:
    """Whether the map shows individual reports rather than clusters."""
    row0, row1, col0, col1 = _cells(bbox, 0)
    return (
        zoom >= STREET_ZOOM
        and row1 - row0 < STREET_MAX_CELLS
        and col1 - col0 < STREET_MAX_CELLS
    )


def cluster_shift(bbox: BBox, zoom: int) -> int:
    """log2 of a cluster cell's side in base cells: coarser with every zoom level
    out, and coarser still until the box holds at most ``MAX_FEATURES`` cells."""
    shift = max(0, CLUSTER_BASE_ZOOM - zoom)
    while _cell_count(bbox, shift) > MAX_FEATURES:
        shift += 1
    return shift


def _street(bbox: BBox, zoom: int, reports: QuerySet) -> MapResult:
    boxed = _in_bands(
        reports, lat_band_for(bbox.south), lat_band_for(bbox.north)
    ).filter(lon__range=(bbox.west, bbox.east), lat__range=(bbox.south, bbox.north))
    # The newest ids come from the index alone; only those rows are read.
    newest = boxed.order_by("-created_at", "-pk").values("pk")[: STREET_LIMIT + 1]
    found = _map_reports(newest)
    return MapResult(
        bbox=bbox,
        zoom=zoom,
        clustered=False,
        truncated=len(found) > STREET_LIMIT,
        reports=found[:STREET_LIMIT],
        clusters=[],
    )


def cell_counts(boxed: QuerySet, shift: int) -> QuerySet:
    """Per grid cell of ``boxed`` (reports with their ``lat_band``): (row,
    column, count, mean latitude, mean longitude, lowest id). The grid's cells
    are 2**shift bands high and columns wide."""
    size = 1 << shift
    return (
        boxed.annotate(
            row=F("lat_band").bitrightshift(shift),
            col=_FloorInt((F("lon") + 180.0) * (LON_COLUMNS_PER_DEGREE / size)),
        )
        .values("row", "col")
        .annotate(
            count=Count("*"), mean_lat=Avg("lat"), mean_lon=Avg("lon"), first=Min("pk")
        )
        .order_by()
        .values_list("row", "col", "count", "mean_lat", "mean_lon", "first")
    )


def _clustered(bbox: BBox, zoom: int, reports: QuerySet) -> MapResult:
    shift = cluster_shift(bbox, zoom)
    row0, row1, col0, col1 = _cells(bbox, shift)
    size = 1 << shift
    # Whole cells: every band of the first to the last row, and the longitudes of
    # the first to the last column, a hair wider: lon + 180 is rounded before its
    # floor is taken, so a longitude just outside an edge can fall in an edge
    # column. Cells outside the view that the margin lets in are dropped below.
    west = col0 * size / LON_COLUMNS_PER_DEGREE - 180.0 - 1e-9
    east = (col1 + 1) * size / LON_COLUMNS_PER_DEGREE - 180.0 + 1e-9
    boxed = _in_bands(reports, row0 * size, (row1 + 1) * size - 1).filter(
        lon__range=(west, east)
    )
    cells = cell_counts(boxed, shift)
    clusters: list[MapCluster] = []
    singles: list[int] = []
    for row, col, count, mean_lat, mean_lon, first in cells:
        if not (row0 <= row <= row1 and col0 <= col <= col1):
            continue
        if count == 1:
            singles.append(first)
        else:
            clusters.append(MapCluster(lat=mean_lat, lon=mean_lon, count=count))
    single_reports = _map_reports(singles) if singles else []
    clusters.sort(key=lambda c: -c.count)
    return MapResult(
        bbox=bbox,
        zoom=zoom,
        clustered=True,
        truncated=False,
        reports=single_reports,
        clusters=clusters,
    )


def reports_in_bbox(
    *,
    bbox: BBox,
    zoom: int,
    statuses: Collection[str] | None = None,
    categories: Sequence[Category | int] | None = None,
) -> MapResult:
    """The public reports in ``bbox`` as the map shows them at ``zoom``.

    ``statuses`` are ReportStatus values and ``categories`` Category instances or
    ids; None means all. Never more than ``MAX_FEATURES`` reports and clusters.
    """
    reports = _filtered(statuses, categories)
    if is_street_level(bbox, zoom):
        return _street(bbox, zoom, reports)
    return _clustered(bbox, zoom, reports)


# Clustered answers (zoomed out) cost up to a second over a million reports, so
# they are cached under a version that every change to the public set bumps.
MAP_VERSION_KEY = "reports:map-version"
CLUSTER_CACHE_SECONDS = 300


def map_version() -> int:
    version = cache.get(MAP_VERSION_KEY)
    if version is None:
        cache.add(MAP_VERSION_KEY, 1, timeout=None)
        version = cache.get(MAP_VERSION_KEY, 1)
    return int(version)


def map_changed() -> None:
    """Forget cached clusters: a report became public, changed or was hidden."""
    try:
        cache.incr(MAP_VERSION_KEY)
    except ValueError:  # not set yet, or evicted
        cache.add(MAP_VERSION_KEY, 1, timeout=None)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two points, in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))
