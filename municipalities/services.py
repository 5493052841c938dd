"""Writes for municipalities: reference data, boundary generations, sites, staff."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import shapely
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from wagtail.models import GroupPagePermission, Page, Site

from .boundaries import BoundaryFeature, BoundaryImportError
from .choices import BodyKind, ConnectionKind, QuestionKind, StaffRole
from .geo import BoundaryIndex
from .locate import boundary_index_invalidate
from .models import (
    Body,
    Boundary,
    BoundaryGeneration,
    Category,
    CategoryQuestion,
    Connection,
    ConnectionService,
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

logger = logging.getLogger("knutpunkt.municipalities")

EDITOR_PAGE_PERMISSIONS = (
    "add_page",
    "change_page",
    "publish_page",
    "lock_page",
    "unlock_page",
)


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


def _editor_group(municipality: Municipality, site_root: Page) -> Group:
    group = municipality.editors_group
    if group is None:
        group, _ = Group.objects.get_or_create(
            name=f"{municipality.name} ({municipality.code}): redaktörer"
        )
    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    for codename in EDITOR_PAGE_PERMISSIONS:
        GroupPagePermission.objects.get_or_create(
            group=group,
            page=site_root,
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            ),
        )
    return group


@transaction.atomic
def municipality_ensure_site(
    *, municipality: Municipality, domain: str, port: int
) -> Site:
    """Give the kommun its own Wagtail site, home page and editors' group.

    The site answers at ``<slug>.<domain>``; its editors may edit only the pages
    under that site's root.
    """
    from cms.models import MunicipalityHomePage

    site = municipality.site
    if site is None:
        root = Page.get_first_root_node()
        home = root.add_child(
            instance=MunicipalityHomePage(
                title=municipality.name, slug=f"kommun-{municipality.slug}"
            )
        )
        site = Site.objects.create(
            hostname=f"{municipality.slug}.{domain}",
            port=port,
            root_page=home,
            site_name=municipality.name,
        )
        municipality.site = site
    group = _editor_group(municipality, site.root_page)
    municipality.editors_group = group
    municipality.save(update_fields=["site", "editors_group"])
    return site


@transaction.atomic
def staff_membership_grant(
    *, user, municipality: Municipality, role: StaffRole
) -> StaffMembership:
    """Give a user a role in a kommun; editors join the kommun's editors' group."""
    membership, _ = StaffMembership.objects.get_or_create(
        user=user, municipality=municipality, role=role
    )
    if role == StaffRole.EDITOR:
        if municipality.editors_group is None:
            raise ValueError(f"{municipality} has no site yet; create it first.")
        user.groups.add(municipality.editors_group)
    else:
        # Into the admin; what they see there is scoped by municipalities.staff.
        user.groups.add(_staff_group())
    return membership


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


# --- Open311 service lists ------------------------------------------------------

OPEN311_QUESTION_KINDS = {
    "number": QuestionKind.NUMBER,
    "singlevaluelist": QuestionKind.SINGLE,
    "multivaluelist": QuestionKind.MULTIPLE,
}


@dataclass(frozen=True)
class ServicesSyncResult:
    created: list[str]
    updated: list[str]
    deactivated: list[str]
    conflicts: list[str]  # routes already taken by another body, left alone


def _questions_from_definition(category: Category, definition: dict) -> None:
    """Make the category's extra questions those the service definition asks."""
    wanted = []
    for attribute in definition.get("attributes") or []:
        if not isinstance(attribute, dict) or attribute.get("variable") in (
            False,
            "false",
        ):
            continue
        code = str(attribute.get("code") or "").strip()[:50]
        if not code:
            continue
        kind = OPEN311_QUESTION_KINDS.get(
            str(attribute.get("datatype", "")).lower(), QuestionKind.TEXT
        )
        choices = [
            str(v.get("name") or v.get("key"))
            for v in attribute.get("values") or []
            if isinstance(v, dict)
        ]
        if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE) and not choices:
            kind = QuestionKind.TEXT
        wanted.append(code)
        CategoryQuestion.objects.update_or_create(
            category=category,
            code=code,
            defaults={
                "label": str(attribute.get("description") or code)[:200],
                "kind": kind,
                "required": attribute.get("required") in (True, "true"),
                "help_text": str(attribute.get("datatype_description") or "")[:300],
                "choices": choices,
                "sort_order": int(attribute.get("order") or 0),
            },
        )
    category.questions.exclude(code__in=wanted).delete()


def _unique_slug(base: str) -> str:
    slug = slugify(base)[:90] or "category"
    candidate, n = slug, 1
    while Category.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{slug}-{n}"
    return candidate


@transaction.atomic
def connection_services_sync(
    *, connection: Connection, services: Iterable
) -> ServicesSyncResult:
    """Make a body's categories what its Open311 service list says.

    Each service becomes (or updates) a category of the body's own, with the
    definition's attributes as extra questions, routed through this connection in
    every kommun the body covers (everywhere for a nationwide body). A service that
    is gone deactivates its category; reports keep it. Shared categories that staff
    mapped to a code keep their name and questions.
    """
    body = connection.body
    now = timezone.now()
    existing = {
        s.service_code: s
        for s in ConnectionService.objects.filter(connection=connection)
        .select_related("category")
        .select_for_update()
    }
    listed = set()
    created, updated, conflicts = [], [], []
    municipalities = [None] if body.nationwide else list(body.municipalities.all())
    for service in services:
        listed.add(service.code)
        mapping = existing.get(service.code)
        if mapping is None:
            name = service.name[:100]
            if Category.objects.filter(body=body, name=name).exists():
                name = f"{name} ({service.code})"[:100]
            category = Category.objects.create(
                name=name,
                slug=_unique_slug(f"{body.slug}-{service.code}"),
                body=body,
            )
            mapping = ConnectionService.objects.create(
                connection=connection,
                category=category,
                service_code=service.code,
            )
            created.append(service.code)
        else:
            category = mapping.category
            updated.append(service.code)
        mapping.service_name = service.name[:200]
        mapping.definition = service.definition
        mapping.synced_at = now
        mapping.save(update_fields=["service_name", "definition", "synced_at"])
        if category.body_id == body.pk:
            category.name = (
                category.name
                if Category.objects.filter(body=body, name=service.name[:100])
                .exclude(pk=category.pk)
                .exists()
                else service.name[:100]
            )
            category.is_active = True
            category.save(update_fields=["name", "is_active"])
            _questions_from_definition(category, service.definition)
        for municipality in municipalities:
            route, _made = Route.objects.get_or_create(
                municipality=municipality,
                category=category,
                defaults={"body": body, "connection": connection},
            )
            if route.body_id != body.pk:
                conflicts.append(f"{service.code} in {municipality or 'Sweden'}")
            elif route.connection_id is None:
                route.connection = connection
                route.save(update_fields=["connection"])
    deactivated = []
    for code, mapping in existing.items():
        if code not in listed and mapping.category.body_id == body.pk:
            Category.objects.filter(pk=mapping.category_id).update(is_active=False)
            deactivated.append(code)
    connection.services_synced_at = now
    connection.save(update_fields=["services_synced_at"])
    logger.info(
        "Services of %s: %d new, %d updated, %d gone, %d conflicts",
        connection,
        len(created),
        len(updated),
        len(deactivated),
        len(conflicts),
    )
    return ServicesSyncResult(created, updated, deactivated, conflicts)


def connection_services_refresh(*, connection_id: int) -> ServicesSyncResult:
    """Fetch an Open311 connection's service list (outside any transaction) and sync."""
    from .connectors.open311 import Open311Connector

    connection = Connection.objects.select_related("body").get(pk=connection_id)
    if connection.kind != ConnectionKind.OPEN311:
        raise ValueError(f"{connection} is not an Open311 connection.")
    services = Open311Connector(connection).services()
    return connection_services_sync(connection=connection, services=services)
