"""Writes for municipalities: reference data, boundary generations, staff, and
which kommuner take reports."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import shapely
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .audit import audit_record
from .boundaries import (
    PACKAGED_SOURCE,
    BoundaryFeature,
    BoundaryImportError,
    read_packaged,
)
from .choices import BodyKind, ConnectionKind, StaffRole
from .geo import BoundaryIndex
from .locate import boundary_index_invalidate
from .models import (
    Body,
    Boundary,
    BoundaryGeneration,
    Category,
    Connection,
    County,
    Municipality,
    Route,
    StaffMembership,
)
from .reference import (
    COUNTIES,
    STANDARD_CATEGORIES,
    STATE_ROAD_CATEGORY,
    TRAFIKVERKET,
    county_code_for,
    municipality_slugs,
)
from .staff import (
    APPROVAL_ROLES,
    SETUP_ROLES,
    staff_memberships,
    staff_municipalities,
)

logger = logging.getLogger("knutpunkt.municipalities")


@transaction.atomic
def municipalities_ensure(*, names_by_code: dict[str, str]) -> list[Municipality]:
    """Create missing län and kommuner; existing ones keep their names and slugs."""
    for code, name in COUNTIES.items():
        County.objects.get_or_create(code=code, defaults={"name": name})
    counties = {c.code: c for c in County.objects.all()}
    existing = {m.code: m for m in Municipality.objects.all()}
    taken_slugs = {m.slug for m in existing.values()}
    missing = {c: n for c, n in names_by_code.items() if c not in existing}
    created = []
    for code, slug in municipality_slugs(missing).items():
        if slug in taken_slugs:
            slug = f"{slug}-{code}"
        taken_slugs.add(slug)
        created.append(
            Municipality(
                code=code,
                name=missing[code] or code,
                slug=slug,
                county=counties[county_code_for(code)],
            )
        )
    Municipality.objects.bulk_create(created)
    return list(Municipality.objects.filter(code__in=names_by_code))


def boundaries_import(
    *, features: Iterable[BoundaryFeature], source: str, nearest_max_m: float
) -> BoundaryGeneration:
    """Store the features as a new generation and activate it, all or nothing.

    The spatial index is built before anything is written, so a set that cannot be
    indexed never becomes active; the previously active generation stays active
    whenever this raises.
    """
    features = list(features)
    try:
        BoundaryIndex(
            [(f.code, f.geometry) for f in features], nearest_max_m=nearest_max_m
        )
    except shapely.errors.GEOSException as exc:
        raise BoundaryImportError(f"The boundaries cannot be indexed: {exc}") from exc
    with transaction.atomic():
        municipalities = {
            m.code: m
            for m in municipalities_ensure(
                names_by_code={f.code: f.name for f in features}
            )
        }
        generation = BoundaryGeneration.objects.create(
            source=source[:255],
            feature_count=len(features),
            vertex_count=sum(shapely.get_num_coordinates(f.geometry) for f in features),
        )
        Boundary.objects.bulk_create(
            Boundary(
                generation=generation,
                municipality=municipalities[f.code],
                wkb=shapely.to_wkb(f.geometry),
            )
            for f in features
        )
        BoundaryGeneration.objects.filter(is_active=True).update(is_active=False)
        generation.is_active = True
        generation.activated_at = timezone.now()
        generation.save(update_fields=["is_active", "activated_at"])
        transaction.on_commit(boundary_index_invalidate)
    logger.info(
        "Activated boundary generation %s (%s features) from %s",
        generation.pk,
        generation.feature_count,
        source,
    )
    return generation


def boundaries_ensure_packaged() -> BoundaryGeneration | None:
    """Import the packaged boundaries when no generation is active yet (a new
    instance); None when one already was."""
    if BoundaryGeneration.objects.filter(is_active=True).exists():
        return None
    return boundaries_import(
        features=read_packaged(),
        source=PACKAGED_SOURCE,
        nearest_max_m=settings.KNUTPUNKT_NEAREST_MAX_METERS,
    )


@transaction.atomic
def staff_membership_grant(
    *, user, municipality: Municipality, role: StaffRole, bodies=()
) -> StaffMembership:
    """Give a user a role in a kommun; editors join the kommun's editors' group,
    approvers and administrators its approvers' group (once it has a site).
    ``bodies``: for a case handler, the bodies whose reports they work (none:
    every body of the kommun)."""
    membership, _ = StaffMembership.objects.get_or_create(
        user=user, municipality=municipality, role=role
    )
    if bodies:
        membership.bodies.add(*bodies)
    if role == StaffRole.EDITOR:
        if municipality.editors_group is None:
            raise ValueError(f"{municipality} has no site yet; create it first.")
        user.groups.add(municipality.editors_group)
    elif role == StaffRole.APPROVER:
        if municipality.approvers_group is None:
            raise ValueError(f"{municipality} has no site yet; create it first.")
        user.groups.add(municipality.approvers_group)
    else:
        # Into the admin; what they see there is scoped by municipalities.staff.
        user.groups.add(_staff_group())
        if role in APPROVAL_ROLES and municipality.approvers_group_id:
            user.groups.add(municipality.approvers_group)
    return membership


@transaction.atomic
def staff_member_add(
    *,
    actor,
    email: str,
    first_name: str,
    last_name: str,
    municipality: Municipality,
    role: StaffRole,
    bodies=(),
) -> StaffMembership:
    """A kommun administrator gives someone a role in their kommun: the account
    with that e-mail address, or a new one without a password (they set one
    through "forgot password", or sign in through the kommun's identity
    provider). Refused unless the actor administers the kommun."""
    if not staff_municipalities(actor, SETUP_ROLES).filter(pk=municipality.pk).exists():
        raise PermissionDenied(_("Only the kommun's administrators add its staff."))
    if (role == StaffRole.EDITOR and municipality.editors_group_id is None) or (
        role == StaffRole.APPROVER and municipality.approvers_group_id is None
    ):
        raise ValidationError(
            {
                "role": _(
                    "The kommun's site is not ready for this role yet; ask the "
                    "national administrators."
                )
            }
        )
    email = email.strip()
    users = get_user_model().objects.filter(email__iexact=email)
    if users.count() > 1:
        raise ValidationError(
            {
                "email": _(
                    "Several accounts have this address; ask the national administrators."
                )
            }
        )
    user = users.first()
    if user is None:
        user = get_user_model()(
            username=email.lower()[:150],
            email=email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
        )
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    elif user.is_superuser:
        raise ValidationError(
            {"email": _("This account is a national administrator's.")}
        )
    if StaffMembership.objects.filter(
        user=user, municipality=municipality, role=role
    ).exists():
        raise ValidationError({"role": _("This person already has this role here.")})
    membership = staff_membership_grant(
        user=user, municipality=municipality, role=role, bodies=bodies
    )
    audit_record(
        actor=actor,
        action="staff.grant",
        target=membership,
        municipality=municipality,
        after={
            "user": user.pk,
            "email": user.email,
            "role": role,
            "bodies": list(bodies),
        },
    )
    return membership


@transaction.atomic
def staff_membership_bodies_set(
    *, actor, membership: StaffMembership, bodies
) -> StaffMembership:
    """The bodies whose reports a case handler works (none: every body of the
    kommun)."""
    if not staff_memberships(actor, SETUP_ROLES).filter(pk=membership.pk).exists():
        raise PermissionDenied(_("Only the kommun's administrators change its staff."))
    before = sorted(membership.bodies.values_list("pk", flat=True))
    after = sorted(body.pk for body in bodies)
    if before != after:
        membership.bodies.set(bodies)
        audit_record(
            actor=actor,
            action="staff.bodies",
            target=membership,
            municipality=membership.municipality_id,
            before={"bodies": before},
            after={"bodies": after},
        )
    return membership


@transaction.atomic
def staff_membership_revoke(*, actor, membership: StaffMembership) -> None:
    """Take a role back. The account keeps its other roles; one left with none
    loses the way into the admin."""
    if not staff_memberships(actor, SETUP_ROLES).filter(pk=membership.pk).exists():
        raise PermissionDenied(_("Only the kommun's administrators remove its staff."))
    user, municipality, role = membership.user, membership.municipality, membership.role
    before = {
        "user": user.pk,
        "email": user.email,
        "role": role,
        "bodies": list(membership.bodies.values_list("pk", flat=True)),
    }
    audit_record(
        actor=actor,
        action="staff.revoke",
        target=membership,
        municipality=municipality,
        before=before,
    )
    membership.delete()
    if role == StaffRole.EDITOR and municipality.editors_group_id:
        user.groups.remove(municipality.editors_group)
    if (
        role in APPROVAL_ROLES
        and municipality.approvers_group_id
        and not StaffMembership.objects.filter(
            user=user, municipality=municipality, role__in=APPROVAL_ROLES
        ).exists()
    ):
        user.groups.remove(municipality.approvers_group)
    # Editors and approvers come into the admin through their kommun's group.
    remaining = StaffMembership.objects.filter(user=user).exclude(role__in=SITE_ROLES)
    if not remaining.exists():
        user.groups.remove(_staff_group())


# The roles held through a group of the kommun's site (cms.services).
SITE_ROLES = (StaffRole.EDITOR, StaffRole.APPROVER)


STAFF_GROUP_NAME = "Kommunpersonal"


def _staff_group() -> Group:
    """The group that lets non-editor staff into the Wagtail admin, and no more."""
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP_NAME)
    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    return group


@transaction.atomic
def categories_ensure_standard() -> list[Category]:
    """FixaMinGata's standard categories, plus state roads routed to Trafikverket
    everywhere in Sweden."""
    categories = []
    for order, name in enumerate((*STANDARD_CATEGORIES, STATE_ROAD_CATEGORY)):
        category, _ = Category.objects.get_or_create(
            slug=slugify(name), defaults={"name": name, "sort_order": order}
        )
        categories.append(category)
    trafikverket, _ = Body.objects.get_or_create(
        slug=slugify(TRAFIKVERKET),
        defaults={"name": TRAFIKVERKET, "kind": BodyKind.STATE, "nationwide": True},
    )
    Route.objects.get_or_create(
        municipality=None,
        category=categories[-1],
        defaults={"body": trafikverket},
    )
    _ensure_inbox(trafikverket)
    return categories


def _ensure_inbox(body: Body) -> None:
    """A body without a case system of its own works its reports in Knutpunkt."""
    if not body.connections.exists():
        Connection.objects.create(
            body=body, name="Knutpunkt", kind=ConnectionKind.INBOX
        )


@transaction.atomic
def municipality_join(*, municipality: Municipality, body_name: str = "") -> Body:
    """Make a kommun take reports: its own body handles every standard category."""
    body, _ = Body.objects.get_or_create(
        slug=f"kommun-{municipality.slug}",
        defaults={
            "name": body_name or f"{municipality.name} kommun",
            "kind": BodyKind.MUNICIPAL,
        },
    )
    body.municipalities.add(municipality)
    _ensure_inbox(body)
    for category in Category.objects.filter(slug__in=map(slugify, STANDARD_CATEGORIES)):
        Route.objects.get_or_create(
            municipality=municipality, category=category, defaults={"body": body}
        )
    if not municipality.participating:
        municipality.participating = True
        municipality.save(update_fields=["participating"])
    return body


@transaction.atomic
def municipality_questionnaire_days_set(
    *, actor, municipality_id: int, days: int
) -> Municipality:
    """Set after how many days a kommun's reporters are asked "is it fixed?"
    (and asked again), as one of its administrators (superusers: any kommun's);
    audited. Reports already waiting keep the day they were given."""
    municipality = (
        staff_municipalities(actor, SETUP_ROLES)
        .select_for_update()
        .filter(pk=municipality_id)
        .first()
    )
    if municipality is None:
        raise PermissionDenied("This kommun's settings are not yours to change.")
    if not 1 <= days <= 365:
        raise ValidationError(
            {"questionnaire_days": _("Enter a number of days from 1 to 365.")}
        )
    before = municipality.questionnaire_days
    if before != days:
        municipality.questionnaire_days = days
        municipality.save(update_fields=["questionnaire_days"])
        audit_record(
            actor=actor,
            action="municipality.questionnaire_days",
            target=municipality,
            municipality=municipality,
            before={"questionnaire_days": before},
            after={"questionnaire_days": days},
        )
    return municipality
