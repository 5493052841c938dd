"""A report's timeline: every event is written here, with who acted, broadcast to
watchers after commit, and told to followers by e-mail (batched).

Writers in other apps (the case hub's signals and deliveries) come here too, so
that each event is made one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task_backends

from infra.tasks import enqueue_with_transaction

from .choices import ActorKind, EventKind, ReportStatus
from .live import event_broadcast
from .milestones import MILESTONE_KINDS, PROMISE_KINDS, milestones_refresh
from .models import Report, ReportEvent
from .notifications import NOTIFIED_KINDS
from .tasks import notify_followers_task


@dataclass(frozen=True)
class Actor:
    """Who made an event happen: the reporter, a member of staff, a case system
    (through its connection) or Knutpunkt itself."""

    kind: ActorKind
    user: object | None = None  # the member of staff, or the signed-in reporter
    connection_id: int | None = None

    @classmethod
    def reporter(cls, user=None) -> Actor:
        return cls(ActorKind.REPORTER, user=user)

    @classmethod
    def staff(cls, user) -> Actor:
        if user is None:
            raise ValueError("A member of staff acts as a user.")
        return cls(ActorKind.STAFF, user=user)

    @classmethod
    def case_system(cls, connection_id: int) -> Actor:
        return cls(ActorKind.CONNECTION, connection_id=connection_id)

    @classmethod
    def system(cls, *, connection_id: int | None = None) -> Actor:
        """Knutpunkt itself; through ``connection_id`` when it was a delivery."""
        return cls(ActorKind.SYSTEM, connection_id=connection_id)


def event_new(
    *,
    report: Report,
    actor: Actor,
    kind: EventKind,
    status: ReportStatus | str = "",
    note: str = "",
    data: dict | None = None,
    happened_at: datetime | None = None,
    superseded: bool = False,
    external_status_code: str = "",
    is_public: bool = True,
) -> ReportEvent:
    """An unsaved event; ``event_record`` saves and announces it. Several at once:
    ``ReportEvent.objects.bulk_create`` then ``reports.live.events_broadcast``.
    ``is_public=False``: an internal event of the staff workspace, never shown
    publicly, broadcast or e-mailed."""
    user = (
        actor.user if actor.user is not None and actor.user.is_authenticated else None
    )
    return ReportEvent(
        report_id=report.pk,
        kind=kind,
        status=status,
        note=note.strip()[:4000],
        data=data or {},
        happened_at=happened_at,
        superseded=superseded,
        actor_kind=actor.kind,
        actor_user=user,
        connection_id=actor.connection_id,
        external_status_code=external_status_code[:100],
        is_public=is_public,
    )


def event_record(*, report: Report, **fields) -> ReportEvent:
    """Save an event of the report (fields as ``event_new``) inside the caller's
    transaction: broadcast after commit; followers told of a change of status, a
    note or a handover, in the next batch. Call with the report's row locked.
    An internal event (``is_public=False``) is neither broadcast nor told.
    The report's milestones and promise (``reports.milestones``) are computed
    again after an event that can change them."""
    event = event_new(report=report, **fields)
    event.save()
    if event.kind in MILESTONE_KINDS:
        milestones_refresh(
            report_id=report.pk, promise_again=event.kind in PROMISE_KINDS
        )
    if not event.is_public:
        return event
    transaction.on_commit(lambda: event_broadcast(event))
    if event.kind in NOTIFIED_KINDS:
        followers_notify_soon(report)
    return event


def followers_notify_soon(report: Report) -> None:
    """Schedule one e-mail to the report's followers about its new events: at
    once after a quiet spell, else when the batching window since the last one
    ends. Call inside the transaction that holds the report's row."""
    if report.notify_scheduled:
        return
    now = timezone.now()
    window = timedelta(seconds=settings.KNUTPUNKT_NOTIFY_BATCH_SECONDS)
    run_at = max(now, report.notified_at + window) if report.notified_at else now
    Report.objects.filter(pk=report.pk).update(notify_scheduled=True)
    report.notify_scheduled = True
    task = notify_followers_task
    if task_backends[task.backend].supports_defer and run_at > now:
        task = task.using(run_after=run_at)
    enqueue_with_transaction(task, report.pk)
