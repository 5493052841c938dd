"""The audit log of staff actions: who did what, when, to what, with the values
before and after. Every service that acts for a member of staff calls
``audit_record`` in its own transaction, so an action and its entry commit or
roll back together. Entries are append-only (``AuditEntry``)."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from .models import AuditEntry, Municipality


class _Encoder(DjangoJSONEncoder):
    """Model instances by primary key; anything else JSON cannot hold as text."""

    def default(self, o):
        if isinstance(o, models.Model):
            return o.pk
        if isinstance(o, (set, frozenset)):
            return sorted(o, key=str)
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any]:
    return json.loads(json.dumps(values or {}, cls=_Encoder))


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    municipality: Municipality | int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
) -> AuditEntry:
    """Append one entry. ``target`` names the object acted on (its model label,
    primary key and text, unless given); ``municipality`` the kommun whose
    administrators see the entry."""
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
        object_label = object_label or str(target)
    if isinstance(municipality, Municipality):
        municipality = municipality.pk
    name = ""
    if actor is not None:
        name = actor.get_full_name() or actor.get_username()
    return AuditEntry.objects.create(
        at=timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_name=name[:200],
        municipality_id=municipality,
        action=action,
        object_type=object_type[:100],
        object_id=str(object_id)[:64],
        object_label=object_label[:255],
        before=_jsonable(before),
        after=_jsonable(after),
    )
