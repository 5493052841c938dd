"""The one place that says which kommuner a member of staff may work in, and what
each role may see and do with reports there.

Every staff query is scoped through these functions (a leak test per screen checks
it): a superuser sees everything; anyone else sees the kommuner they hold a role in,
and, for roles that work reports or run the case-system set-up, the bodies, routes
and connections of those kommuner.

Reports in the staff workspace, by role:

- a *national administrator* (superuser): every report, every action;
- a *kommun administrator*: every report of the kommun, every action;
- a *contact-centre agent*: sees every report of the kommun, whichever body and
  case system handles it, and adds internal notes; changes nothing of a body's
  (status, priority, assignment) unless also that body's case handler; files
  reports on behalf of people who phone or come by (as may a kommun
  administrator: ``FILING_ROLES``), for places in the kommun only;
- a *case handler*: sees and works the reports of their bodies in the kommun (the
  membership's ``bodies``; none listed means every body of the kommun).

Status changes (``staff_status_scope``) are for whoever works the report,
whatever case system its body has: a change made here is told to that case
system through the outbox (casehub.outbox.updates_queue), as one made there is
told to us.

Marking a report a duplicate of another report of its kommun, and moderating
its text and photos, go with working it (``staff_work_scope``): kommun
administrators and the report's case handlers, not contact-centre agents.

Wagtail's shared parts (applied by cms.wagtail_hooks, cms.admin_reports,
cms.admin_media): a kommun's editors, approvers and administrators see the pages of their
kommun's site only (``staff_pages_q``), in the page chooser, the dashboard and
the reports; the people named in site history and the reports' filters are
the staff of their kommuner (``staff_people``); everyone else sees no pages at
all. The categories offered anywhere in the admin are the shared ones and
those of the bodies of the user's kommuner (``staff_category_choices``), never
another kommun's own. Images and documents follow Wagtail's collection
permissions, which cms.services grants per kommun: the kommun's collection and
the shared national one to choose from.

The kommun's site, by role: its *editors* edit its pages and publish them, or,
when the kommun has moderation before publishing, submit them for approval;
its *approvers* and *administrators* (``APPROVAL_ROLES``, the members of the
kommun's approvers' group) approve or reject what was submitted and may always
publish. Only the kommun's administrators (and superusers) switch moderation on
and off (``MODERATION_SETTING_ROLES``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from .choices import StaffRole
from .models import (
    Body,
    Category,
    CategoryQuestion,
    Connection,
    District,
    Municipality,
    OperationalMessage,
    Route,
    ServicePromise,
    StaffMembership,
    WorkCalendar,
)

# Who publishes the kommun's operational messages (driftmeddelanden): its
# administrators, web editors and the street departments' case handlers.
MESSAGE_ROLES = (StaffRole.ADMIN, StaffRole.EDITOR, StaffRole.CASE_HANDLER)
# Who may change bodies, routes and connections (the case-system set-up).
SETUP_ROLES = (StaffRole.ADMIN,)
# Who sees the pages of the kommun's site in the admin's shared parts.
PAGE_ROLES = (StaffRole.ADMIN, StaffRole.EDITOR, StaffRole.APPROVER)
# Who approves (and may always publish) the pages of the kommun's site: the
# members of its approvers' group (cms.editorial).
APPROVAL_ROLES = (StaffRole.ADMIN, StaffRole.APPROVER)
# Who switches moderation before publishing on and off for the kommun's site.
MODERATION_SETTING_ROLES = SETUP_ROLES
# Who may work reports and deliveries.
CASEWORK_ROLES = (StaffRole.ADMIN, StaffRole.CASE_HANDLER, StaffRole.CONTACT_CENTRE)
# Who sees every report of their kommun in the workspace, whatever its body.
KOMMUN_WIDE_ROLES = (StaffRole.ADMIN, StaffRole.CONTACT_CENTRE)
# Who may change a report's status, priority and assignment (in their scope).
WORKING_ROLES = (StaffRole.ADMIN, StaffRole.CASE_HANDLER)

# Who may file a report on behalf of a caller (phone or visit), in their kommun.
FILING_ROLES = (StaffRole.ADMIN, StaffRole.CONTACT_CENTRE)

NOTHING = Q(pk__in=[])


def _active(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


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


def _municipality_ids(user, roles: Iterable[StaffRole]) -> list[int]:
    """``staff_municipalities`` read out as ids: a filter on reports then names
    its kommuner as values, so the database plans for them (a subquery in
    their place kept SQLite from the inbox's covering indexes)."""
    return list(staff_municipalities(user, roles).values_list("pk", flat=True))


def staff_site_roots(user) -> list:
    """The root pages of the sites of the kommuner whose pages the user sees
    (``PAGE_ROLES``); superusers: every site's."""
    from wagtail.models import Page  # late: wagtailcore's models need a ready registry

    if not _active(user):
        return []
    roots = Page.objects.filter(sites_rooted_here__isnull=False)
    if not user.is_superuser:
        roots = roots.filter(
            sites_rooted_here__municipality__in=staff_municipalities(user, PAGE_ROLES)
        )
    return list(roots.distinct().order_by("path"))


def staff_pages_q(user) -> Q:
    """A filter on pages: those of the sites of the user's kommuner
    (``staff_site_roots``); every page for superusers, none for anyone else."""
    if not _active(user):
        return NOTHING
    if user.is_superuser:
        return Q()
    found = NOTHING
    for root in staff_site_roots(user):
        found |= Q(path__startswith=root.path)
    return found


def staff_people(user) -> QuerySet:
    """The people a member of staff may see named in the admin's shared lists
    (site history): the staff of their kommuner, and themselves; superusers:
    everyone."""
    people = get_user_model().objects.all()
    if not _active(user):
        return people.none()
    if user.is_superuser:
        return people
    return people.filter(
        Q(pk=user.pk) | Q(memberships__municipality__in=staff_municipalities(user))
    ).distinct()


def staff_filing_municipalities(user) -> QuerySet[Municipality]:
    """The kommuner where the user may file reports on behalf of callers: those
    where they are contact-centre agent or kommun administrator (superusers:
    every kommun)."""
    return staff_municipalities(user, FILING_ROLES)


def staff_holds_role(user, roles: Iterable[StaffRole] | None = None) -> bool:
    """Whether the user holds one of ``roles`` (any role: None) in some kommun;
    superusers count as holding every role. The user's roles are read once per
    user object (one request's), since the admin asks this of every screen's
    policy for its menu."""
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    held = getattr(user, "_knutpunkt_staff_roles", None)
    if held is None:
        held = frozenset(
            StaffMembership.objects.filter(user=user).values_list("role", flat=True)
        )
        user._knutpunkt_staff_roles = held
    return bool(held) if roles is None else not held.isdisjoint(roles)


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


def staff_categories(
    user, roles: Iterable[StaffRole] | None = None
) -> QuerySet[Category]:
    """Categories the user manages: a kommun's staff those of their own bodies'
    case systems; the shared national list is the superusers'."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return Category.objects.all()
    return Category.objects.filter(body__in=staff_bodies(user, roles))


def staff_category_choices(user, roles: Iterable[StaffRole] | None = None) -> Q:
    """A filter on the categories the user's kommuner offer: the shared list and
    their own bodies' (those a kommun question may be put on)."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return Q()
    return Q(body__isnull=True) | Q(body__in=staff_bodies(user, roles))


def staff_category_questions(
    user, roles: Iterable[StaffRole] | None = None
) -> QuerySet[CategoryQuestion]:
    """Extra questions the user manages: the kommun's own questions of the
    kommuner they administer (superusers: every question)."""
    return CategoryQuestion.objects.filter(staff_report_scope(user, roles))


def staff_memberships(
    user, roles: Iterable[StaffRole] | None = None
) -> QuerySet[StaffMembership]:
    """The staff roles of the kommuner the user administers: those the kommun's
    administrators grant and take back (superusers: every role)."""
    return StaffMembership.objects.filter(staff_report_scope(user, roles))


def staff_districts(
    user, roles: Iterable[StaffRole] | None = None
) -> QuerySet[District]:
    """The districts of the user's kommuner (every district for superusers)."""
    if _active(user) and user.is_superuser:
        return District.objects.all()
    return District.objects.filter(municipality__in=staff_municipalities(user, roles))


def staff_service_promises(
    user, roles: Iterable[StaffRole] | None = None
) -> QuerySet[ServicePromise]:
    """The service promises of the user's kommuner (every one for superusers)."""
    if _active(user) and user.is_superuser:
        return ServicePromise.objects.all()
    return ServicePromise.objects.filter(
        municipality__in=staff_municipalities(user, roles)
    )


def staff_work_calendars(
    user, roles: Iterable[StaffRole] | None = None
) -> QuerySet[WorkCalendar]:
    """The working-day calendars of the user's kommuner (every one for
    superusers)."""
    if _active(user) and user.is_superuser:
        return WorkCalendar.objects.all()
    return WorkCalendar.objects.filter(
        municipality__in=staff_municipalities(user, roles)
    )


def staff_operational_messages(
    user, roles: Iterable[StaffRole] | None = None
) -> QuerySet[OperationalMessage]:
    """The operational messages of the user's kommuner (every one for
    superusers)."""
    if _active(user) and user.is_superuser:
        return OperationalMessage.objects.all()
    return OperationalMessage.objects.filter(
        municipality__in=staff_municipalities(user, roles)
    )


def staff_promise_category_choices(
    user, roles: Iterable[StaffRole] | None = None
) -> QuerySet[Category]:
    """The categories a promise of the user's kommuner may be for: the active
    categories routed in one of them (a kommun's own routes, and the nationwide
    ones every kommun offers). Which kommun uses which the form checks."""
    kommuner = staff_municipalities(user, roles).filter(participating=True)
    return Category.objects.filter(
        Q(routes__municipality__in=kommuner) | Q(routes__municipality__isnull=True),
        is_active=True,
    ).distinct()


def staff_report_scope(user, roles: Iterable[StaffRole] | None = None) -> Q:
    """A filter on reports (or on ``report__`` from deliveries, with the prefix
    applied by the caller) for the user's kommuner; any model with a
    ``municipality`` takes it as well."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return Q()
    return Q(municipality__in=staff_municipalities(user, roles))


def staff_handler_scope(user) -> Q:
    """A filter on the reports the user handles as a case handler: those of the
    bodies of each case-handler membership in its kommun (every body of the
    kommun when the membership lists none)."""
    if not _active(user):
        return NOTHING
    scope = NOTHING
    memberships = StaffMembership.objects.filter(
        user=user, role=StaffRole.CASE_HANDLER
    ).prefetch_related("bodies")
    for membership in memberships:
        bodies = [body.pk for body in membership.bodies.all()]
        in_kommun = Q(municipality_id=membership.municipality_id)
        scope |= in_kommun & Q(body_id__in=bodies) if bodies else in_kommun
    return scope


def staff_workspace_scope(user) -> Q:
    """A filter on the reports the user sees in the staff workspace (and may add
    internal notes to): every report of the kommuner where they are kommun
    administrator or contact-centre agent, whichever body and case system handles
    it, and the reports they handle as a case handler."""
    if not _active(user):
        return NOTHING
    if user.is_superuser:
        return Q()
    kommun_wide = Q(municipality_id__in=_municipality_ids(user, KOMMUN_WIDE_ROLES))
    return kommun_wide | staff_handler_scope(user)


def staff_work_scope(user) -> Q:
    """A filter on the reports whose priority and assignment the user may change:
    every report of the kommuner they administer, and the reports they handle as
    a case handler. A contact-centre agent works none of a body's reports."""
    if not _active(user):
        return NOTHING
    if user.is_superuser:
        return Q()
    admin = Q(municipality_id__in=_municipality_ids(user, SETUP_ROLES))
    return admin | staff_handler_scope(user)


def staff_status_scope(user) -> Q:
    """A filter on reports whose status the user may change (with a public
    reply): those the user works (``staff_work_scope``), whether their body
    works them in Knutpunkt's own inbox or in a case system of its own (which
    is then told of the change)."""
    return staff_work_scope(user)


def staff_case_handlers(*, municipality_id: int, body_id: int) -> QuerySet:
    """The active users who are case handlers of the body in the kommun: those a
    report of that body may be assigned to."""
    memberships = StaffMembership.objects.filter(
        municipality_id=municipality_id, role=StaffRole.CASE_HANDLER
    ).filter(Q(bodies=body_id) | Q(bodies__isnull=True))
    return (
        get_user_model()
        .objects.filter(is_active=True, pk__in=memberships.values("user_id"))
        .order_by("first_name", "last_name", "username")
    )


def staff_approvers(*, municipality_id: int) -> QuerySet:
    """The active users who approve the pages of the kommun's site: its
    administrators and approvers (``APPROVAL_ROLES``)."""
    memberships = StaffMembership.objects.filter(
        municipality_id=municipality_id, role__in=APPROVAL_ROLES
    )
    return get_user_model().objects.filter(
        is_active=True, pk__in=memberships.values("user_id")
    )


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


def staff_audit_scope(user) -> Q:
    """A filter on audit entries (municipalities.models.AuditEntry) the user may
    read: those of the kommuner they administer; every entry for a superuser
    (including those of no kommun: shared categories, nationwide bodies). Case
    handlers and contact-centre agents read none."""
    if not _active(user):
        return NOTHING
    if user.is_superuser:
        return Q()
    return Q(municipality__in=staff_municipalities(user, SETUP_ROLES))
