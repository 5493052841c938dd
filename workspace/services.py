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

import math
import posixpath
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import transaction
from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from casehub.outbox import cases_withdraw, deliveries_create, updates_queue
from infra.tasks import enqueue_with_transaction
from municipalities.audit import audit_record
from municipalities.models import Body, Category, Municipality
from municipalities.routing import delivery_connection, route_body_id, routes_at
from municipalities.staff import (
    staff_case_handlers,
    staff_status_scope,
    staff_work_scope,
    staff_workspace_scope,
)
from reports.choices import CLOSED_STATUSES, EventKind, ReportPriority, ReportStatus
from reports.events import Actor, event_record
from reports.map import map_changed
from reports.models import Report, ReportEvent, ReportPhoto, Subscription
from reports.services import haversine_m, report_transition

from .moderation import moderation_summary
from .tasks import send_moderation_notice_task


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


# --- duplicates ------------------------------------------------------------------

#: How far from a report its original may be.
DUPLICATE_RADIUS_M = 500
#: How long after it closed a report may still be chosen as an original.
DUPLICATE_CLOSED_DAYS = 30


def _original_scope(actor, report: Report) -> Q:
    """Reports that may be ``report``'s original: of its kommun, seen by the
    actor in the workspace, public (confirmed, not hidden), not itself."""
    return (
        staff_workspace_scope(actor)
        & Q(municipality_id=report.municipality_id, is_hidden=False)
        & ~Q(status=ReportStatus.UNCONFIRMED)
        & ~Q(pk=report.pk)
    )


def duplicate_candidates(*, actor, report: Report) -> list[tuple[Report, float]]:
    """The reports ``report`` may be marked a duplicate of, nearest first, with
    their distance in metres: of the same kommun, within DUPLICATE_RADIUS_M, not
    duplicates themselves, and open or closed within DUPLICATE_CLOSED_DAYS."""
    dlat = DUPLICATE_RADIUS_M / 111_195.0
    dlon = dlat / max(math.cos(math.radians(report.lat)), 0.01)
    recently = timezone.now() - timedelta(days=DUPLICATE_CLOSED_DAYS)
    candidates = (
        Report.objects.filter(_original_scope(actor, report))
        .exclude(status=ReportStatus.DUPLICATE)
        .annotate(closed_since=Coalesce("closed_at", "status_changed_at", "created_at"))
        .exclude(status__in=CLOSED_STATUSES, closed_since__lt=recently)
        .filter(
            lat__range=(report.lat - dlat, report.lat + dlat),
            lon__range=(report.lon - dlon, report.lon + dlon),
        )
        .select_related("category")
        .order_by("-created_at")[:200]
    )
    found = []
    for candidate in candidates:
        distance = haversine_m(report.lat, report.lon, candidate.lat, candidate.lon)
        if distance <= DUPLICATE_RADIUS_M:
            found.append((candidate, distance))
    return sorted(found, key=lambda pair: (pair[1], pair[0].pk))


def duplicate_original_id(report_id: int) -> int | None:
    """The report a duplicate was marked a duplicate of (its newest such
    event), if Knutpunkt marked it."""
    event = (
        ReportEvent.objects.filter(
            report_id=report_id, data__duplicate_of__isnull=False
        )
        .order_by("-pk")
        .first()
    )
    return event.data["duplicate_of"] if event else None


def _followers_move(*, report: Report, original: Report) -> int:
    """Move the report's followers to the original (one subscription per
    address: a confirmation on either side is kept), and make the reporter a
    follower of the original; the number of addresses that now follow it
    anew."""
    now = timezone.now()
    moved = 0
    following = {s.email: s for s in Subscription.objects.filter(report=original)}
    for subscription in Subscription.objects.filter(report=report):
        there = following.get(subscription.email)
        if there is None:
            subscription.report = original
            subscription.save(update_fields=["report"])
            following[subscription.email] = subscription
            moved += 1
            continue
        if there.confirmed_at is None and subscription.confirmed_at is not None:
            there.confirmed_at = subscription.confirmed_at
            there.save(update_fields=["confirmed_at"])
        subscription.delete()
    # The reporter proved their address when the report was confirmed.
    reporter = following.get(report.email)
    if reporter is None:
        Subscription.objects.create(
            report=original,
            email=report.email,
            user=report.reporter,
            confirmed_at=report.confirmed_at or now,
        )
        moved += 1
    elif reporter.confirmed_at is None:
        reporter.confirmed_at = report.confirmed_at or now
        reporter.save(update_fields=["confirmed_at"])
    return moved


@transaction.atomic
def report_mark_duplicate(
    *, actor, report_id: int, original_id: int, version: int | None = None
) -> ReportEvent:
    """Mark a report a duplicate of another of its kommun, as one who works it
    (municipalities.staff.staff_work_scope): its followers and its reporter
    follow the original from now on, and it closes with the status "duplicate"
    and a public event linking to the original; the original's timeline says
    so too. Refused, with nothing changed: a report of itself, one already a
    duplicate, an original that is itself a duplicate (no chains: the message
    names the report it duplicates), and one the actor cannot see in the
    report's kommun (said as "not found", revealing nothing)."""
    report = _report_locked(
        actor=actor,
        report_id=report_id,
        scope=staff_work_scope(actor),
        refusal=_("This report is not yours to mark as a duplicate."),
        version=version,
    )
    if report.status == ReportStatus.DUPLICATE:
        raise ValidationError(
            {"original": _("This report is already marked as a duplicate.")}
        )
    if original_id == report.pk:
        raise ValidationError(
            {"original": _("A report cannot be a duplicate of itself.")}
        )
    original = (
        Report.objects.select_for_update()
        .filter(_original_scope(actor, report), pk=original_id)
        .first()
    )
    if original is None:
        raise ValidationError(
            {
                "original": _("There is no report #%(number)s in this report's kommun.")
                % {"number": original_id}
            }
        )
    if original.status == ReportStatus.DUPLICATE:
        root = duplicate_original_id(original.pk)
        if root is not None:
            message = _(
                "Report #%(number)s is itself a duplicate of #%(root)s: choose "
                "#%(root)s instead."
            ) % {"number": original.pk, "root": root}
        else:
            message = _(
                "Report #%(number)s is itself a duplicate: choose the report it "
                "duplicates instead."
            ) % {"number": original.pk}
        raise ValidationError({"original": message})

    before = report.status
    moved = _followers_move(report=report, original=original)
    now = timezone.now()
    report.status = ReportStatus.DUPLICATE
    report.status_changed_at = now
    report.status_as_of = max(now, report.status_as_of or now)
    report.save(
        update_fields=["status", "status_changed_at", "status_as_of", "updated_at"]
    )
    transaction.on_commit(map_changed)
    with translation.override(report.language):
        # Its number, not its title: a title moderated later must not live on
        # in another report's timeline.
        note = _(
            "The same problem was already reported: report #%(number)s. Its "
            "updates are sent to this report's followers from now on."
        ) % {"number": original.pk}
    event = event_record(
        report=report,
        actor=Actor.staff(actor),
        kind=EventKind.STATUS,
        status=ReportStatus.DUPLICATE,
        note=note,
        data={"duplicate_of": original.pk},
        happened_at=now,
    )
    with translation.override(original.language):
        original_note = _(
            "Report #%(number)s about the same problem was merged with this "
            "one; its followers follow this report now."
        ) % {"number": report.pk}
    event_record(
        report=original,
        actor=Actor.staff(actor),
        kind=EventKind.NOTE,
        note=original_note,
        data={"duplicate": report.pk},
        happened_at=now,
    )
    audit_record(
        actor=actor,
        action="report.duplicate",
        target=report,
        municipality=report.municipality_id,
        before={"status": before},
        after={
            "status": ReportStatus.DUPLICATE.value,
            "duplicate_of": original.pk,
            "followers_moved": moved,
        },
    )
    return event


# --- moderation -------------------------------------------------------------------


def moderated_storage() -> FileSystemStorage:
    """Where hidden photos are kept for audit: outside the media served
    publicly (KNUTPUNKT_MODERATED_ROOT), with no URL."""
    return FileSystemStorage(location=settings.KNUTPUNKT_MODERATED_ROOT, base_url=None)


def _photo_set_aside(photo: ReportPhoto) -> dict:
    """Copy a photo's files into the moderated storage and delete the public
    ones after commit: its public URL answers 404 from then on. What was kept,
    for the audit log."""
    kept = {"id": photo.pk, "position": photo.position}
    public_names = []
    storage = moderated_storage()
    for field in ("image", "thumbnail"):
        file = getattr(photo, field)
        if not file:
            continue
        with default_storage.open(file.name, "rb") as source:
            content = source.read()
        name = posixpath.join(
            "reports", str(photo.report_id), posixpath.basename(file.name)
        )
        kept[field] = storage.save(name, ContentFile(content))
        public_names.append(file.name)

    def delete_public():
        for name in public_names:
            default_storage.delete(name)

    transaction.on_commit(delete_public)
    return kept


@transaction.atomic
def report_moderate(
    *,
    actor,
    report_id: int,
    title: str | None = None,
    description: str | None = None,
    hide_photo_ids=(),
    reason: str,
    version: int | None = None,
) -> ReportEvent | None:
    """Redact a report's title or description (None: left as is) and hide its
    photos, as one who works it (municipalities.staff.staff_work_scope), for a
    reason that is public. The original text and photos are kept for audit only
    (the audit log's "before", the photos in the moderated storage); hidden
    photos leave the public media. The timeline says publicly what was edited
    and why (never the removed text) and the reporter is e-mailed. None when
    nothing changed."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": _("Say why: the reason is shown with the report.")}
        )
    report = _report_locked(
        actor=actor,
        report_id=report_id,
        scope=staff_work_scope(actor),
        refusal=_("This report is not yours to moderate."),
        version=version,
    )
    errors = {}
    before, after, changed = {}, {}, []
    if title is not None:
        title = " ".join(title.split())
        if not title:
            errors["title"] = _("A report needs a title: write a neutral one.")
        elif len(title) > 120:
            errors["title"] = _("At most 120 characters.")
        elif title != report.title:
            before["title"], after["title"] = report.title, title
            changed.append("title")
    if description is not None:
        description = description.strip()
        if not description:
            errors["description"] = _(
                "A report needs a description: write a neutral one."
            )
        elif len(description) > 4000:
            errors["description"] = _("At most 4000 characters.")
        elif description != report.description:
            before["description"] = report.description
            after["description"] = description
            changed.append("description")
    wanted = {int(pk) for pk in hide_photo_ids}
    # The report's own photos: an update's are moderated with the update
    # (report_update_moderate).
    photos = list(report.photos.filter(pk__in=wanted, event__isnull=True))
    if len(photos) != len(wanted):
        errors["hide_photos"] = _("Only this report's own photos can be hidden.")
    if errors:
        raise ValidationError(errors)
    if not changed and not photos:
        return None

    if photos:
        before["photos"] = [_photo_set_aside(photo) for photo in photos]
        after["photos_hidden"] = [photo.pk for photo in photos]
        ReportPhoto.objects.filter(pk__in=[photo.pk for photo in photos]).delete()
    after["reason"] = reason
    if changed:
        report.title = after.get("title", report.title)
        report.description = after.get("description", report.description)
        report.save(update_fields=["title", "description", "updated_at"])
        transaction.on_commit(map_changed)
    event = _moderation_recorded(
        actor=actor,
        report=report,
        action="report.moderate",
        changed=changed,
        photos=len(photos),
        reason=reason,
        before=before,
        after=after,
    )
    enqueue_with_transaction(
        send_moderation_notice_task, report.pk, changed, len(photos), reason
    )
    return event


@transaction.atomic
def report_update_moderate(
    *,
    actor,
    event_id: int,
    report_id: int | None = None,
    hide_text: bool = False,
    hide_photo_ids=(),
    reason: str,
) -> ReportEvent | None:
    """Hide a citizen's update's text or photos (reports.updates), as one who
    works the report (municipalities.staff.staff_work_scope), for a reason that
    is public: as ``report_moderate`` does for a report. The original text is
    kept in the audit log, the photos in the moderated storage; the update
    stays on the timeline saying its text was hidden. None when nothing
    changed."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": _("Say why: the reason is shown with the report.")}
        )
    updates = ReportEvent.objects.select_for_update().filter(
        pk=event_id, kind=EventKind.UPDATE
    )
    if report_id is not None:  # the update of this report only
        updates = updates.filter(report_id=report_id)
    update = updates.first()
    if update is None:
        raise PermissionDenied(_("This report is not yours to moderate."))
    report = _report_locked(
        actor=actor,
        report_id=update.report_id,
        scope=staff_work_scope(actor),
        refusal=_("This report is not yours to moderate."),
        version=None,
    )
    wanted = {int(pk) for pk in hide_photo_ids}
    photos = list(update.photos.filter(pk__in=wanted))
    if len(photos) != len(wanted):
        raise ValidationError(
            {"hide_photos": _("Only this report's own photos can be hidden.")}
        )
    hide_text = hide_text and bool(update.note)
    if not hide_text and not photos:
        return None
    before, after = {"update": update.pk}, {"update": update.pk, "reason": reason}
    data = dict(update.data or {})
    if hide_text:
        before["text"], update.note = update.note, ""
        data["text_hidden"] = True
    if photos:
        before["photos"] = [_photo_set_aside(photo) for photo in photos]
        after["photos_hidden"] = [photo.pk for photo in photos]
        ReportPhoto.objects.filter(pk__in=[photo.pk for photo in photos]).delete()
        data["photos"] = [p for p in data.get("photos", []) if p["id"] not in wanted]
    update.data = data
    update.save(update_fields=["note", "data"])
    return _moderation_recorded(
        actor=actor,
        report=report,
        action="report.moderate_update",
        changed=["update_text"] if hide_text else [],
        photos=len(photos),
        reason=reason,
        before=before,
        after=after,
    )


def _moderation_recorded(
    *,
    actor,
    report: Report,
    action: str,
    changed: list[str],
    photos: int,
    reason: str,
    before: dict,
    after: dict,
) -> ReportEvent:
    """What moderation did, recorded: the public note on the timeline saying
    what was edited and why, in the report's language (never the removed
    text), and the audit entry with the original (``before``)."""
    with translation.override(report.language):
        note = _("The report was edited (%(what)s): %(reason)s") % {
            "what": moderation_summary(changed=changed, photos=photos),
            "reason": reason,
        }
    event = event_record(
        report=report,
        actor=Actor.staff(actor),
        kind=EventKind.NOTE,
        note=note,
        data={"moderated": changed, "photos_hidden": photos},
    )
    _audit(actor, action, report, before, after)
    return event
