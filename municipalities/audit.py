"""The audit log of staff actions: who did what, when, to what, with the values
before and after. Every service that acts for a member of staff calls
``audit_record`` in its own transaction, so an action and its entry commit or
roll back together. Entries are append-only (``AuditEntry``)."""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy
from modelcluster.models import get_all_child_relations

from .models import AuditEntry, Municipality
from .staff import SETUP_ROLES, staff_municipalities


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


# --- what an entry says -----------------------------------------------------------

# The actions recorded, as the audit log names them. Setting-up screens record
# "create", "edit" and "delete" of any model; the object type says of what.
ACTION_LABELS = {
    "create": pgettext_lazy("audit action", "Created"),
    "edit": gettext_lazy("Changed"),
    "delete": gettext_lazy("Deleted"),
    "report.status": gettext_lazy("Changed a report's status"),
    "report.note": gettext_lazy("Added an internal note"),
    "report.priority": gettext_lazy("Set a report's priority"),
    "report.assign": gettext_lazy("Assigned a report"),
    "delivery.resend": gettext_lazy("Resent a delivery"),
    "connection.retry": gettext_lazy("Retried a connection now"),
    "kommun.moderation": gettext_lazy("Switched moderation before publishing"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def object_type_label(object_type: str) -> str:
    """The model's name in the reader's language ("report", "route"), or the
    stored label when the model is gone."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return str(model._meta.verbose_name)


# Never written to the log, whatever the model: fields whose name says they hold
# a password, a token or a hash of one. (A connection's ``secret_env`` names an
# environment variable, not a secret: it is recorded.)
_UNRECORDED = ("password", "token", "hash")


def _recorded(field) -> bool:
    return (
        field.editable
        and not field.primary_key
        and not any(word in field.name for word in _UNRECORDED)
    )


def _value(instance, field):
    if field.is_relation:
        related = getattr(instance, field.name, None)
        return None if related is None else str(related)
    return field.value_from_object(instance)


def audit_snapshot(instance: models.Model) -> dict[str, Any]:
    """What an object's set-up screen edits, readable: its editable fields (a
    related object by its name), many-to-many fields as sorted lists of names,
    and inline children (a category's questions, a connection's service codes)
    as lists of their fields."""
    opts = instance._meta
    values: dict[str, Any] = {}
    for field in opts.concrete_fields:
        if _recorded(field):
            values[field.name] = _value(instance, field)
    if instance.pk is None:
        return _jsonable(values)
    for field in opts.many_to_many:
        if _recorded(field):
            values[field.name] = sorted(
                str(o) for o in getattr(instance, field.name).all()
            )
    for relation in get_all_child_relations(instance):
        name = relation.get_accessor_name()
        values[name] = [
            {
                f.name: _value(child, f)
                for f in child._meta.concrete_fields
                if _recorded(f) and f is not relation.field
            }
            for child in getattr(instance, name).all()
        ]
    return _jsonable(values)


def audit_changes(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that differ, each side with its own values."""
    names = [n for n in {**before, **after} if before.get(n) != after.get(n)]
    return (
        {n: before[n] for n in names if n in before},
        {n: after[n] for n in names if n in after},
    )


def audit_kommun_of(instance: models.Model, user=None) -> int | None:
    """The kommun whose administrators see an entry about ``instance``: its own
    kommun; for a body (or a body's connection) shared by several, the first of
    them the acting user administers, else its first; None for what belongs to
    no kommun (shared categories, nationwide bodies: superusers see those)."""
    municipality_id = getattr(instance, "municipality_id", None)
    if municipality_id is not None:
        return municipality_id
    body = instance if instance._meta.label_lower == "municipalities.body" else None
    if body is None and getattr(instance, "body_id", None) is not None:
        body = instance.body
    if body is None or body.pk is None:
        return None
    kommuner = body.municipalities.order_by("name")
    if user is not None and not user.is_superuser:
        own = kommuner.filter(pk__in=staff_municipalities(user, SETUP_ROLES))
        if own.exists():
            kommuner = own
    return kommuner.values_list("pk", flat=True).first()
