"""Who handles a category at a kommun: the one place for the routing rule.

A kommun that takes reports routes its categories to its own bodies; routes without
a kommun (state roads to Trafikverket) apply everywhere in Sweden, whether or not
the kommun takes reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet

from .models import Body, Category, Connection, Municipality, Route

# A kommun's own routes before nationwide ones (SQLite sorts NULL first otherwise).
OWN_ROUTES_FIRST = F("municipality_id").asc(nulls_last=True)


def routes_at(municipality: Municipality | None) -> QuerySet[Route]:
    scope = Q(municipality__isnull=True)
    if municipality is not None and municipality.participating:
        scope |= Q(municipality=municipality)
    return Route.objects.filter(scope, category__is_active=True)


def route_body_id(
    *, municipality: Municipality | None, category: Category
) -> int | None:
    """The id of the body handling the category at the kommun: its own route first."""
    return (
        routes_at(municipality)
        .filter(category=category)
        .order_by(OWN_ROUTES_FIRST)
        .values_list("body_id", flat=True)
        .first()
    )


@dataclass(frozen=True)
class CategoryGroup:
    body: Body
    categories: list[Category]


@dataclass(frozen=True)
class Responsibility:
    """Who takes reports at a point, and in which categories."""

    municipality: Municipality | None
    groups: list[CategoryGroup]


def responsibility_at(*, municipality: Municipality | None) -> Responsibility:
    """Every category offered at the kommun, grouped by the body handling it."""
    groups: dict[int, CategoryGroup] = {}
    routes = routes_at(municipality).select_related("body", "category")
    for route in routes.order_by(
        OWN_ROUTES_FIRST, "category__sort_order", "category__name"
    ):
        group = groups.setdefault(route.body_id, CategoryGroup(route.body, []))
        group.categories.append(route.category)
    return Responsibility(municipality=municipality, groups=list(groups.values()))


def delivery_connection(
    *, municipality: Municipality, category: Category, body_id: int
) -> Connection | None:
    """The connection a report goes through: its route's, else the body's first
    connection (active ones first). Switched-off connections still count, so that
    deliveries wait for them rather than vanish."""
    route = (
        routes_at(municipality)
        .filter(category=category, body_id=body_id)
        .order_by(OWN_ROUTES_FIRST)
        .select_related("connection")
        .first()
    )
    if route is not None and route.connection is not None:
        return route.connection
    return (
        Connection.objects.filter(body_id=body_id).order_by("-is_active", "pk").first()
    )
