"""The staff workspace's actions on a report. Each checks, with
municipalities.staff, that the acting user may, records who acted (an event with
the member of staff as its actor) and, when ``version`` is given, refuses to act
on a report that changed since the form was shown (nothing is overwritten).

Internal events (notes, priority, assignment) are never public: not on the
report's page, map or API, not e-mailed, not sent to watchers' sockets
(reports.events records them with ``is_public=False``).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from municipalities.audit import audit_record
from municipalities.staff import (
    staff_case_handlers,
    staff_status_scope,
    staff_work_scope,
    staff_workspace_scope,
)
from reports.choices import EventKind, ReportPriority, ReportStatus
from reports.events import Actor, event_record
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
    (municipalities.staff.staff_status_scope); None when nothing changed."""
    _report_locked(
        actor=actor,
        report_id=report_id,
        scope=staff_status_scope(actor),
        refusal=_("This report's status is not yours to change."),
        version=version,
    )
    return report_transition(
        actor=actor, report_id=report_id, status=status, note=reply
    )


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
    event = event_record(
        report=report,
        actor=Actor.staff(actor),
        kind=EventKind.NOTE,
        note=note,
        is_public=False,
    )
    _audit(actor, "report.note", report, {}, {"note": note})
    return event


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
    event = event_record(
        report=report,
        actor=Actor.staff(actor),
        kind=EventKind.PRIORITY,
        data={"from": before, "to": priority.value},
        is_public=False,
    )
    _audit(
        actor,
        "report.priority",
        report,
        {"priority": before},
        {"priority": priority.value},
    )
    return event


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
    before_name = _name(report.assigned_to)
    report.assigned_to = assignee
    report.save(update_fields=["assigned_to", "updated_at"])
    event = event_record(
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
    _audit(
        actor,
        "report.assign",
        report,
        {"assigned_to": before_name},
        {"assigned_to": _name(assignee)},
    )
    return event


# --- the audit log ----------------------------------------------------------------


def _name(user) -> str | None:
    return (user.get_full_name() or user.username) if user is not None else None


def _audit(actor, action: str, report: Report, before: dict, after: dict) -> None:
    """Record a report action in the audit log (municipalities.audit), in the
    action's own transaction."""
    audit_record(
        actor=actor,
        action=action,
        target=report,
        municipality=report.municipality_id,
        before=before,
        after=after,
    )
