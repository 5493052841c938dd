"""Place and address search through geopy; the one outside call made in a request."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from geopy.adapters import RequestsAdapter
from geopy.exc import GeopyError
from geopy.geocoders import Nominatim

from infra.ratelimit import rate_limit_hit

logger = logging.getLogger("knutpunkt.geocoding")


class GeocoderUnavailable(Exception):
    """The place search did not answer in time or answered with an error."""


@dataclass(frozen=True)
class Place:
    label: str
    lat: float
    lon: float


def places_search(query: str, *, limit: int = 5) -> list[Place]:
    """Places in Sweden matching the query, best first; raises GeocoderUnavailable."""
    config = settings.KNUTPUNKT_GEOCODER
    geocoder = Nominatim(
        user_agent=config["user_agent"],
        domain=config["domain"],
        scheme=config["scheme"],
        timeout=config["timeout"],
    )
    try:
        found = geocoder.geocode(
            query, exactly_one=False, limit=limit, country_codes="se", language="sv"
        )
    except GeopyError as exc:
        # The query may name a person's address: log the failure, never the query.
        logger.warning("Place search failed: %s", type(exc).__name__)
        raise GeocoderUnavailable from exc
    return [
        Place(label=p.address, lat=float(p.latitude), lon=float(p.longitude))
        for p in found or []
    ]


class PlaceSearchRefused(Exception):
    """A page's place search gave nothing: the geocoder failed, or the
    connection spent its budget (``retry_after``: the seconds to wait). The
    message says so to the person, and that the page offers the place another
    way below the search (coordinates, or a kommun and an address)."""

    def __init__(self, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def places_search_for(request, query: str, *, limit: int = 5) -> list[Place]:
    """``places_search`` from a page, counted against the connection's
    budget of place searches (``geocode``, the search API's too: both reach
    the geocoder); PlaceSearchRefused, saying why, when it gives nothing."""
    retry_after = rate_limit_hit(request, "geocode")
    if retry_after is not None:
        raise PlaceSearchRefused(
            _(
                "Too many place searches from your connection just now. Try again "
                "in a minute, or give the place another way below."
            ),
            retry_after=retry_after,
        )
    try:
        return places_search(query, limit=limit)
    except GeocoderUnavailable:
        raise PlaceSearchRefused(
            _(
                "Place search is unavailable right now. Give the place another "
                "way below."
            )
        ) from None


#: How long a staff screen waits for the nearest address: it is shown beside
#: the coordinates and the map, so it may be missing but never slow.
ADDRESS_TIMEOUT_SECONDS = 1.5
#: How long a found address (or a failure) is remembered for a point.
ADDRESS_CACHE_SECONDS = 7 * 24 * 3600
ADDRESS_FAILURE_CACHE_SECONDS = 60


def address_at(lat: float, lon: float, *, patient: bool = False) -> str:
    """The nearest address to a point, from the geocoder's reverse search, or
    "" when it has none or does not answer within ADDRESS_TIMEOUT_SECONDS (or
    the configured timeout, if shorter). Answers are cached per point (about a
    metre), failures briefly, so a screen shown again asks no one.

    ``patient``: for a background task, which may wait the configured timeout
    and whose failure is not remembered (the screen may still try)."""
    config = settings.KNUTPUNKT_GEOCODER
    key = f"geocoding:address:{config['domain']}:{lat:.5f}:{lon:.5f}"
    cached = cache.get(key)
    if cached:
        return cached
    if cached is not None and not patient:
        return cached
    timeout = config["timeout"]
    geocoder = Nominatim(
        user_agent=config["user_agent"],
        domain=config["domain"],
        scheme=config["scheme"],
        timeout=timeout if patient else min(timeout, ADDRESS_TIMEOUT_SECONDS),
        # One try: geopy's adapter would otherwise retry a slow answer twice.
        adapter_factory=partial(RequestsAdapter, max_retries=0),
    )
    try:
        found = geocoder.reverse((lat, lon), exactly_one=True, language="sv")
    except (GeopyError, ValueError) as exc:
        logger.warning("Address search failed: %s", type(exc).__name__)
        if not patient:
            cache.set(key, "", ADDRESS_FAILURE_CACHE_SECONDS)
        return ""
    address = found.address if found is not None else ""
    cache.set(key, address, ADDRESS_CACHE_SECONDS)
    return address
