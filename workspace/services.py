"""The staff workspace's actions on a report. Each checks, with
municipalities.staff, that the acting user may, records who acted (an event with
the member of staff as its actor) and, when ``version`` is given, refuses to act
on a report that changed since the form was shown (nothing is overwritten).

Internal events (notes, priority, assignment) are never public: not on the
report's page, map or API, not e-mailed, not sent to watchers' sockets
(reports.events records them with ``is_public=False``).

A public change (a status, a reply, a handover) of a report whose body has a
case system of its own is told to that case system through the outbox
(casehub.outbox.updates_queue), queued in the same transaction.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from casehub.outbox import cases_withdraw, deliveries_create, updates_queue
from municipalities.audit import audit_record
from municipalities.models import Body, Category, Municipality
from municipalities.routing import delivery_connection, route_body_id, routes_at
from municipalities.staff import (
    staff_case_handlers,
    staff_status_scope,
    staff_work_scope,
    staff_workspace_scope,
)
from reports.choices import EventKind, ReportPriority, ReportStatus
from reports.events import Actor, event_record
from reports.map import map_changed
from reports.models import Report, ReportEvent
from reports.services import report_transition


class StaleReport(Exception):
    """The report changed since the acting user's form was shown; ``events`` are
    the changes made meanwhile, oldest first."""

    def __init__(self, events: list[ReportEvent]):
        super().__init__("The report changed meanwhile.")
        self.events = events


def report_version(report_id: int) -> int:
    """The report's version as a form carries it: its newest event's id (every
    change of a report is an event)."""
    newest = ReportEvent.objects.filter(report_id=report_id).aggregate(Max("pk"))
    return newest["pk__max"] or 0


def _report_locked(
    *, actor, report_id: int, scope: Q, refusal: str, version: int | None
) -> Report:
    """The report, row locked, if ``scope`` holds it: PermissionDenied if not,
    StaleReport if it changed after ``version``. Call inside a transaction."""
    report = Report.objects.select_for_update().filter(scope, pk=report_id).first()
    if report is None:
        raise PermissionDenied(refusal)
    if report.status == ReportStatus.UNCONFIRMED:
        raise ValidationError(_("An unconfirmed report cannot be worked yet."))
    if version is not None:
        meanwhile = list(
            ReportEvent.objects.filter(report_id=report_id, pk__gt=version)
            .select_related("actor_user")
            .order_by("pk")
        )
        if meanwhile:
            raise StaleReport(meanwhile)
    return report


@transaction.atomic
def report_status_change(
    *,
    actor,
    report_id: int,
    status: ReportStatus,
    reply: str = "",
    version: int | None = None,
) -> ReportEvent | None:
    """Change a report's status with a public reply, as a member of staff who may
    (municipalities.staff.staff_status_scope); None when nothing changed. The
    case system of the report's body, if it has one, is told."""
    _report_locked(
        actor=actor,
        report_id=report_id,
        scope=staff_status_scope(actor),
        refusal=_("This report's status is not yours to change."),
        version=version,
    )
    event = report_transition(
        actor=actor, report_id=report_id, status=status, note=reply
    )
    if event is not None:
        updates_queue(event=event)
    return event


@transaction.atomic
def report_note_add(*, actor, report_id: int, note: str) -> ReportEvent:
    """Add an internal note: seen by the report's staff only. Anyone who sees the
    report in the workspace may (a note overwrites nothing, so it needs no
    version)."""
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Write the note.")})
    report = _report_locked(
        actor=actor,
        report_id=report_id,
        scope=staff_workspace_scope(actor),
        refusal=_("This report is not yours to see."),
        version=None,
    )
    return event_record(
        report=report,
        actor=Actor.staff(actor),
        kind=EventKind.NOTE,
        note=note,
        is_public=False,
    )


@transaction.atomic
def report_priority_set(
    *,
    actor,
    report_id: int,
    priority: ReportPriority,
    version: int | None = None,
) -> ReportEvent | None:
    """Set a report's priority, as one who works it
    (municipalities.staff.staff_work_scope); None when it was already so."""
    report = _report_locked(
        actor=actor,
        report_id=report_id,
        scope=staff_work_scope(actor),
        refusal=_("This report's priority is not yours to change."),
        version=version,
    )
    priority = ReportPriority(priority)
    if report.priority == priority:
        return None
    before = report.priority
    report.priority = priority
    report.save(update_fields=["priority", "updated_at"])
    return event_record(
        report=report,
        actor=Actor.staff(actor),
        kind=EventKind.PRIORITY,
        data={"from": before, "to": priority.value},
        is_public=False,
    )


@transaction.atomic
def report_assign(
    *,
    actor,
    report_id: int,
    assignee_id: int | None,
    version: int | None = None,
) -> ReportEvent | None:
    """Assign a report to a case handler of its body in its kommun (or to no one),
    as one who works it; None when it was already so."""
    report = _report_locked(
        actor=actor,
        report_id=report_id,
        scope=staff_work_scope(actor),
        refusal=_("This report's assignment is not yours to change."),
        version=version,
    )
    assignee = None
    if assignee_id is not None:
        assignee = (
            staff_case_handlers(
                municipality_id=report.municipality_id, body_id=report.body_id
            )
            .filter(pk=assignee_id)
            .first()
        )
        if assignee is None:
            raise ValidationError(
                {
                    "assigned_to": _(
                        "Only a case handler of the report's body can be assigned."
                    )
                }
            )
    if report.assigned_to_id == assignee_id:
        return None
    before = report.assigned_to_id
    report.assigned_to = assignee
    report.save(update_fields=["assigned_to", "updated_at"])
    return event_record(
        report=report,
        actor=Actor.staff(actor),
        kind=EventKind.ASSIGNED,
        data={
            "from": before,
            "to": assignee_id,
            "to_name": (assignee.get_full_name() or assignee.username)
            if assignee
            else "",
        },
        is_public=False,
    )


@transaction.atomic
def report_reassign(
    *,
    actor,
    report_id: int,
    category_id: int | None = None,
    body_id: int | None = None,
    municipality_id: int | None = None,
    version: int | None = None,
) -> ReportEvent | None:
    """Hand a report over, as one who works it (staff_work_scope): to another
    category, body or kommun (each left out stays as it is; a body left out is
    the one the kommun routes the category to). The report is delivered to the
    new body's case system, the case system it leaves is told where it went,
    and a public event says so. Moving it to another kommun hands it to that
    kommun's staff: those of the old one no longer see it. None when nothing
    changed."""
    report = _report_locked(
        actor=actor,
        report_id=report_id,
        scope=staff_work_scope(actor),
        refusal=_("This report is not yours to hand over."),
        version=version,
    )
    category = Category.objects.filter(
        pk=category_id or report.category_id, is_active=True
    ).first()
    if category is None:
        raise ValidationError({"category": _("Choose an active category.")})
    municipality = Municipality.objects.filter(
        pk=municipality_id or report.municipality_id
    ).first()
    if municipality is None:
        raise ValidationError({"municipality": _("Choose a kommun.")})
    offered = {"category": category.name, "kommun": municipality.name}
    if body_id is None:
        body_id = route_body_id(municipality=municipality, category=category)
        if body_id is None:
            raise ValidationError(
                {"category": _("%(category)s is not offered in %(kommun)s.") % offered}
            )
    body = Body.objects.filter(pk=body_id).first()
    if body is None:
        raise ValidationError({"body": _("Choose a body.")})
    if not routes_at(municipality).filter(category=category, body=body).exists():
        raise ValidationError(
            {
                "body": _("%(body)s does not handle %(category)s in %(kommun)s.")
                % {**offered, "body": body.name}
            }
        )
    if (category.pk, body.pk, municipality.pk) == (
        report.category_id,
        report.body_id,
        report.municipality_id,
    ):
        return None
    connection = delivery_connection(
        municipality=municipality, category=category, body_id=body.pk
    )
    if connection is None:
        raise ValidationError(
            {"body": _("%(body)s takes no reports yet.") % {"body": body.name}}
        )
    before = {
        "category": report.category_id,
        "body": report.body_id,
        "municipality": report.municipality_id,
        "assigned_to": report.assigned_to_id,
    }
    from_body = Body.objects.only("name").get(pk=report.body_id)
    old_municipality_id = report.municipality_id
    report.category = category
    report.body = body
    report.municipality = municipality
    update = ["category", "body", "municipality", "updated_at"]
    if before["body"] != body.pk or before["municipality"] != municipality.pk:
        # The assignee handled the body the report left.
        report.assigned_to = None
        update.append("assigned_to")
    report.save(update_fields=update)
    transaction.on_commit(map_changed)
    event = event_record(
        report=report,
        actor=Actor.staff(actor),
        kind=EventKind.HANDOVER,
        data={
            "from": from_body.name,
            "from_body_id": from_body.pk,
            "to": body.name,
            "to_body_id": body.pk,
            "municipality": municipality.name,
            "municipality_code": municipality.code,
            "category": category.name,
        },
    )
    # Not yet sent where it was going: it never goes there.
    cases_withdraw(report_id=report.pk, keep_connection_id=connection.pk)
    updates_queue(event=event)
    deliveries_create(report=report)
    audit_record(
        actor=actor,
        action="report.reassign",
        target=report,
        municipality=old_municipality_id,
        before=before,
        after={
            "category": category.pk,
            "body": body.pk,
            "municipality": municipality.pk,
            "assigned_to": report.assigned_to_id,
        },
    )
    return event
