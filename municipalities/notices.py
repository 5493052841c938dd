"""A kommun's operational messages (driftmeddelanden) as citizens meet them:
those shown now on its site (``messages_now``), those at a point of the report
form (``messages_at``: the kommun's messages with no district, and those whose
district holds the point), and the message that marks a new report as a known
problem (``known_message_for``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone
from shapely.geometry import Point

from .districts import geometry_from_geojson
from .models import OperationalMessage


def messages_now(
    municipality_id: int, *, at: dt.datetime | None = None
) -> QuerySet[OperationalMessage]:
    """The kommun's messages shown at ``at`` (now), newest first."""
    at = at or timezone.now()
    return (
        OperationalMessage.objects.filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=at),
            municipality_id=municipality_id,
            starts_at__lte=at,
        )
        .select_related("district")
        .prefetch_related("categories")
    )


@dataclass
class PointMessages:
    """The messages at a point: those for every category, and by category id
    those for some."""

    everywhere: list[OperationalMessage] = field(default_factory=list)
    by_category: dict[int, list[OperationalMessage]] = field(default_factory=dict)

    def for_category(self, category_id: int) -> list[OperationalMessage]:
        return self.by_category.get(category_id, [])


def _holds(message: OperationalMessage, point: Point) -> bool:
    if message.district is None:
        return True
    return geometry_from_geojson(message.district.geometry).covers(point)


def messages_at(
    municipality_id: int, *, lat: float, lon: float, at: dt.datetime | None = None
) -> PointMessages:
    """The kommun's messages shown now at the point, for the report form."""
    found = PointMessages()
    point = Point(lon, lat)
    for message in messages_now(municipality_id, at=at):
        if not _holds(message, point):
            continue
        categories = list(message.categories.all())
        if not categories:
            found.everywhere.append(message)
        for category in categories:
            found.by_category.setdefault(category.pk, []).append(message)
    return found


def known_message_for(
    *,
    municipality_id: int,
    category_id: int,
    lat: float,
    lon: float,
    at: dt.datetime | None = None,
) -> OperationalMessage | None:
    """The message that makes a report here, in this category, a known
    problem: one shown now with ``mark_known`` whose categories (none: all)
    and district (none: the whole kommun) take it. The newest wins."""
    point = Point(lon, lat)
    for message in messages_now(municipality_id, at=at).filter(mark_known=True):
        categories = {c.pk for c in message.categories.all()}
        if (not categories or category_id in categories) and _holds(message, point):
            return message
    return None
