"""A body's categories from its case system's Open311 service list: each service
a category of the body's own, its definition's attributes the category's extra
questions, routed through the connection in every kommun the body covers."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from municipalities.choices import ConnectionKind, QuestionKind
from municipalities.models import (
    Category,
    CategoryQuestion,
    Connection,
    ConnectionService,
    Route,
)

from .connectors.open311 import Open311Connector

logger = logging.getLogger("knutpunkt.casehub")

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
    connection = Connection.objects.select_related("body").get(pk=connection_id)
    if connection.kind != ConnectionKind.OPEN311:
        raise ValueError(f"{connection} is not an Open311 connection.")
    services = Open311Connector(connection).services()
    return connection_services_sync(connection=connection, services=services)
