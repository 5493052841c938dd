"""Place and address search through geopy; the one outside call made in a request."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from geopy.exc import GeopyError
from geopy.geocoders import Nominatim

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
