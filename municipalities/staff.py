"""The one place that says which kommuner a member of staff may work in.

Every staff query is scoped through these functions (a leak test per screen checks
it): a superuser sees everything; anyone else sees the kommuner they hold a role in,
and, for roles that work reports or run the case-system set-up, the bodies, routes
and connections of those kommuner.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from .choices import ConnectionKind, StaffRole
from .models import Body, Connection, Municipality, Route, StaffMembership

# Who may change bodies, routes and connections (the case-system set-up).
SETUP_ROLES = (StaffRole.ADMIN,)
# Who may work reports and deliveries.
CASEWORK_ROLES = (StaffRole.ADMIN, StaffRole.CASE_HANDLER, StaffRole.CONTACT_CENTRE)


def staff_municipalities(
    user, roles: Iterable[StaffRole] | None = None
) -> QuerySet[Municipality]:
    if user is None or not user.is_authenticated or not user.is_active:
        return Municipality.objects.none()
    if user.is_superuser:
        return Municipality.objects.all()
    memberships = StaffMembership.objects.filter(user=user)
    if roles is not None:
        memberships = memberships.filter(role__in=list(roles))
    return Municipality.objects.filter(pk__in=memberships.values("municipality_id"))


def staff_bodies(user, roles: Iterable[StaffRole] | None = None) -> QuerySet[Body]:
    """Bodies covering one of the user's kommuner. Nationwide bodies (Trafikverket)
    belong to no kommun's staff; only superusers manage them."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return Body.objects.all()
    return Body.objects.filter(
        municipalities__in=staff_municipalities(user, roles), nationwide=False
    ).distinct()


def staff_routes(user, roles: Iterable[StaffRole] | None = None) -> QuerySet[Route]:
    if user is not None and user.is_authenticated and user.is_superuser:
        return Route.objects.all()
    return Route.objects.filter(municipality__in=staff_municipalities(user, roles))


def staff_connections(
    user, roles: Iterable[StaffRole] | None = None
) -> QuerySet[Connection]:
    return Connection.objects.filter(body__in=staff_bodies(user, roles))


def staff_report_scope(user, roles: Iterable[StaffRole] | None = None) -> Q:
    """A filter on reports (or on ``report__`` from deliveries, with the prefix
    applied by the caller) for the user's kommuner."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return Q()
    return Q(municipality__in=staff_municipalities(user, roles))


def staff_status_scope(user) -> Q:
    """A filter on reports whose status the user may change: those of the user's
    kommuner (casework roles) whose body works its reports in Knutpunkt's own
    inbox. A body with a case system of its own changes them there, and the case
    system tells us."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    works_here = Q(
        body__in=Body.objects.filter(
            connections__kind=ConnectionKind.INBOX, connections__is_active=True
        )
    )
    return staff_report_scope(user, CASEWORK_ROLES) & works_here


def staff_is_kommun_admin(user) -> bool:
    """Whether the user is a kommun administrator somewhere (the set-up role:
    bodies, routes, case-system connections). Superusers are not counted here;
    callers that treat them alike say so."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return StaffMembership.objects.filter(user=user, role__in=SETUP_ROLES).exists()


def staff_in_municipality(user, municipality: Municipality) -> bool:
    """Whether the user holds any staff role in the kommun (superusers: every
    kommun)."""
    return staff_municipalities(user).filter(pk=municipality.pk).exists()
