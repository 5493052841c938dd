"""Which kommun is a point in: the one function every caller uses."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import shapely
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .choices import LocateMatch
from .geo import BoundaryIndex
from .models import Boundary, BoundaryGeneration, Municipality

_lock = threading.Lock()
_state: dict = {"generation": None, "index": None, "checked": -math.inf}
# Indexes built, by generation and nearest distance, the oldest first: at most KEEP_BUILT.
_built: dict = {}
KEEP_BUILT = 2
#: The whole country as (west, south, east, north): the maps' view where no
#: kommun's boundaries give one, and where a site's own start view must lie.
SWEDEN_BOUNDS = (10.59, 55.14, 24.18, 69.06)


@dataclass(frozen=True)
class Located:
    match: LocateMatch
    municipality: Municipality | None = None
    distance_m: float = 0.0


def parse_point(lat: object, lon: object) -> tuple[float, float]:
    """Coordinates as floats, or a ValidationError keyed by the field at fault."""
    errors: dict[str, str] = {}
    values: dict[str, float] = {}
    for field, raw, limit in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            errors[field] = _("This coordinate is required.")
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            errors[field] = _("“%(value)s” is not a number.") % {"value": raw}
            continue
        if not math.isfinite(value) or not -limit <= value <= limit:
            errors[field] = _("Must be between -%(limit)s and %(limit)s.") % {
                "limit": int(limit)
            }
            continue
        values[field] = value
    if errors:
        raise ValidationError(errors)
    return values["lat"], values["lon"]


def _active_generation() -> tuple | None:
    """The active generation as a key naming its content: a generation is
    never changed once imported, and an id alone may be reused (a rolled-back
    import)."""
    return (
        BoundaryGeneration.objects.filter(is_active=True)
        .values_list("pk", "created_at", "feature_count", "vertex_count", "source")
        .first()
    )


def _build_index(generation_id: int) -> BoundaryIndex:
    rows = Boundary.objects.filter(generation_id=generation_id).values_list(
        "municipality__code", "wkb"
    )
    return BoundaryIndex(
        [(code, shapely.from_wkb(bytes(wkb))) for code, wkb in rows],
        nearest_max_m=settings.KNUTPUNKT_NEAREST_MAX_METERS,
    )


def _index_of(key: tuple | None) -> BoundaryIndex | None:
    """The index of ``key`` (a generation and the nearest distance), built or
    one of the last ones built (an import tried and rolled back leaves the
    active one's in place)."""
    if key is None:
        return None
    if key not in _built:
        _built[key] = _build_index(key[0][0])
        while len(_built) > KEEP_BUILT:
            del _built[next(iter(_built))]
    return _built[key]


def boundary_index() -> BoundaryIndex | None:
    """The index of the active generation, rebuilt when another one is activated.

    Other processes notice a new generation within
    ``KNUTPUNKT_BOUNDARY_RECHECK_SECONDS``; this process at once, because
    ``boundaries_import`` invalidates it on commit.
    """
    now = time.monotonic()
    if now - _state["checked"] < settings.KNUTPUNKT_BOUNDARY_RECHECK_SECONDS:
        return _state["index"]
    with _lock:
        if now - _state["checked"] < settings.KNUTPUNKT_BOUNDARY_RECHECK_SECONDS:
            return _state["index"]
        generation = _active_generation()
        key = generation and (generation, settings.KNUTPUNKT_NEAREST_MAX_METERS)
        if key != _state["generation"]:
            _state["index"] = _index_of(key)
            _state["generation"] = key
        _state["checked"] = time.monotonic()
        return _state["index"]


def boundary_index_invalidate() -> None:
    """Read the active generation again at the next lookup. The index built
    is kept for as long as that generation stays the active one: building
    takes seconds."""
    with _lock:
        _state["checked"] = -math.inf


def municipality_for_point(*, lat: float, lon: float) -> Located:
    """The kommun containing the point, else the nearest within the configured
    distance (coasts, piers, border slivers), else none with the reason."""
    index = boundary_index()
    if index is None:
        return Located(match=LocateMatch.NO_BOUNDARIES)
    hit = index.locate(lat=lat, lon=lon)
    if hit is None:
        return Located(match=LocateMatch.OUTSIDE)
    return Located(
        match=LocateMatch.INSIDE if hit.distance_m == 0 else LocateMatch.NEAREST,
        municipality=Municipality.objects.select_related("county").get(code=hit.code),
        distance_m=hit.distance_m,
    )


def map_bounds(municipality) -> tuple[float, float, float, float]:
    """What a map of the kommun shows first: its bounding box; Sweden's for
    None or a kommun without boundaries."""
    return (municipality and municipality_bounds(municipality.code)) or SWEDEN_BOUNDS


def municipality_inside_point(code: str) -> tuple[float, float] | None:
    """A point inside the kommun as (lat, lon), for a place given only as the
    kommun and an address; None when it has no boundaries."""
    index = boundary_index()
    return index.inside.get(code) if index else None


def municipality_bounds(code: str) -> tuple[float, float, float, float] | None:
    """The kommun's bounding box as (west, south, east, north), from the active
    boundaries; None when it has none."""
    index = boundary_index()
    return index.bounds.get(code) if index else None
