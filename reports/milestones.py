"""What counts as a report's first response and as fixed, and when its service
promise falls due: defined here once, from the report's events, and kept on the
report (``Report.first_response_at`` … ``due_at``) after every event that can
change them (``reports.events.event_record`` calls ``milestones_refresh``).

The rules, as a careful analyst counts:

- **Received**: when the report was confirmed (became public); an unconfirmed
  report has no milestones and counts nowhere.
- **When an event happened**: as its source said (``happened_at``, a case system
  may tell late), else when it was written; never before the report was
  received.
- **First response**: the earliest public word from whoever handles the report,
  a member of staff or a case system: a status, a reply or a handover. The
  reporter's own words, Knutpunkt's ("sent"), internal notes and the notice
  that a duplicate was merged into the report are not answers. A late or out-of-order signal counts when it happened, even when a
  newer word superseded its status.
- **Closed** and **fixed**: the status runs of the report's accepted (not
  superseded) status events in the order they happened. The report is closed
  since the first event of its final run of closed statuses, and fixed since
  the first of its final run of "fixed": a reopened report is neither until
  it is closed again, and then from the new closing.
- **Promise**: the kommun's promise for the category (its own, else the
  kommun's default) when the report was received, and again at a handover
  (the new holder's promise), counted in the holder's working days from
  receipt (``municipalities.workdays``). Editing a promise changes no report
  already received.
- **A report counts once**, for the kommun and body holding it now.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence

from django.db import transaction

from municipalities.promises import Promise, calendar_for, promise_for, promises_of
from municipalities.workdays import CalendarUnavailable, WorkingDays, local_date

from .choices import CLOSED_STATUSES, OPEN_STATUSES, ActorKind, EventKind, ReportStatus
from .models import Report, ReportEvent

logger = logging.getLogger(__name__)

# Events after which a report's milestones are computed again.
MILESTONE_KINDS = frozenset(
    {EventKind.CONFIRMED, EventKind.STATUS, EventKind.NOTE, EventKind.HANDOVER}
)
# Kinds and actors that answer the reporter.
RESPONSE_KINDS = frozenset({EventKind.STATUS, EventKind.NOTE, EventKind.HANDOVER})
RESPONDERS = frozenset({ActorKind.STAFF, ActorKind.CONNECTION})
# Events that read the promise again: receipt and a handover.
PROMISE_KINDS = frozenset({EventKind.CONFIRMED, EventKind.HANDOVER})

MILESTONE_FIELDS = (
    "received_on",
    "received_month",
    "first_response_at",
    "response_days",
    "fixed_at",
    "fix_days",
    "closed_at",
    "promise_response_days",
    "promise_fix_days",
    "response_due_at",
    "fix_due_at",
    "due_at",
)
EVENT_FIELDS = (
    "id",
    "kind",
    "status",
    "is_public",
    "actor_kind",
    "happened_at",
    "created_at",
    "superseded",
    "data",
)


def milestones_compute(
    *,
    confirmed_at: dt.datetime | None,
    status: str,
    events: Sequence[dict],
    promise: Promise | None,
    calendar: WorkingDays,
) -> dict:
    """The milestone fields of a report from its events (dicts of
    ``EVENT_FIELDS``), its promise and its kommun's working days."""
    fields = dict.fromkeys(MILESTONE_FIELDS)
    if confirmed_at is None or status == ReportStatus.UNCONFIRMED:
        return fields
    received_on = local_date(confirmed_at)
    fields["received_on"] = received_on
    fields["received_month"] = received_on.replace(day=1)

    def when(event: dict) -> dt.datetime:
        return max(confirmed_at, event["happened_at"] or event["created_at"])

    answers = [
        when(e)
        for e in events
        if e["is_public"]
        and e["kind"] in RESPONSE_KINDS
        and e["actor_kind"] in RESPONDERS
        and "duplicate" not in (e.get("data") or {})
    ]
    first_response = min(answers) if answers else None
    statuses = sorted(
        (
            (when(e), e["id"], e["status"])
            for e in events
            if e["status"] and not e["superseded"]
        ),
        key=lambda item: (item[0], item[1]),
    )
    closed_at = _final_run_start(statuses, status, CLOSED_STATUSES)
    fixed_at = _final_run_start(statuses, status, {ReportStatus.FIXED})
    fields.update(
        first_response_at=first_response, closed_at=closed_at, fixed_at=fixed_at
    )
    try:
        if first_response is not None:
            fields["response_days"] = calendar.taken(confirmed_at, first_response)
        if fixed_at is not None:
            fields["fix_days"] = calendar.taken(confirmed_at, fixed_at)
        if promise is not None:
            fields["promise_response_days"] = promise.response_days
            fields["promise_fix_days"] = promise.fix_days
            fields["response_due_at"] = calendar.due(
                confirmed_at, promise.response_days
            )
            fields["fix_due_at"] = calendar.due(confirmed_at, promise.fix_days)
    except CalendarUnavailable as error:
        # Without working days nothing is counted in them; the report and its
        # times stay, and the figures say what is missing.
        logger.warning(
            "No working days for a report received %s: %s", received_on, error
        )
        for name in ("response_days", "fix_days", "response_due_at", "fix_due_at"):
            fields[name] = None
    if status in OPEN_STATUSES:
        fields["due_at"] = (
            fields["response_due_at"]
            if first_response is None
            else fields["fix_due_at"]
        )
    return fields


def _final_run_start(statuses, current: str, members) -> dt.datetime | None:
    """When the report entered its current run of ``members`` statuses (its
    current status is one), from its status events in order; ``None`` when
    its current status is not one of them."""
    if current not in members:
        return None
    start = None
    for moment, _id, value in statuses:
        if value in members:
            if start is None:
                start = moment
        else:
            start = None
    return start


ROW_FIELDS = (
    "id",
    "confirmed_at",
    "status",
    "municipality_id",
    "category_id",
    "promise_response_days",
    "promise_fix_days",
)


def milestones_refresh(*, report_id: int, promise_again: bool = False) -> None:
    """Compute a report's milestones from its events and store them, in the
    caller's transaction. ``promise_again``: read the kommun's promise anew
    (at receipt and at a handover); otherwise the one it was received under."""
    row = Report.objects.filter(pk=report_id).values(*ROW_FIELDS).first()
    if row is None:
        return
    if promise_again or row["promise_response_days"] is None:
        promise = promise_for(
            municipality_id=row["municipality_id"], category_id=row["category_id"]
        )
    else:
        promise = _promise_kept(row)
    events = list(ReportEvent.objects.filter(report_id=report_id).values(*EVENT_FIELDS))
    fields = milestones_compute(
        confirmed_at=row["confirmed_at"],
        status=row["status"],
        events=events,
        promise=promise,
        calendar=calendar_for(row["municipality_id"]),
    )
    Report.objects.filter(pk=report_id).update(**fields)


def _promise_kept(row: dict) -> Promise | None:
    if row["promise_response_days"] is None:
        return None
    return Promise(
        response_days=row["promise_response_days"], fix_days=row["promise_fix_days"]
    )


def milestones_rebuild(
    report_ids: Iterable[int] | None = None,
    *,
    promise_again: bool = False,
    batch: int = 1000,
) -> int:
    """Compute the milestones of many reports (all without ``report_ids``) in
    batches of one transaction each: for reports written before milestones
    were kept, and for a kommun whose working days changed. ``promise_again``:
    each report gets its kommun's current promise. Returns how many."""
    queryset = Report.objects.exclude(confirmed_at=None).order_by("pk")
    if report_ids is not None:
        queryset = queryset.filter(pk__in=list(report_ids))
    ids = list(queryset.values_list("pk", flat=True))
    calendars: dict[int, WorkingDays] = {}
    promises: dict[int, dict] = {}
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        with transaction.atomic():
            # Locked as event_record's callers lock a report, so an event
            # written meanwhile is either read here or refreshes after us.
            rows = list(
                Report.objects.filter(pk__in=chunk)
                .select_for_update()
                .order_by("pk")
                .values(*ROW_FIELDS)
            )
            events: dict[int, list[dict]] = {pk: [] for pk in chunk}
            for event in ReportEvent.objects.filter(report_id__in=chunk).values(
                "report_id", *EVENT_FIELDS
            ):
                events[event["report_id"]].append(event)
            for row in rows:
                kommun = row["municipality_id"]
                if kommun not in calendars:
                    calendars[kommun] = calendar_for(kommun)
                    promises[kommun] = promises_of(kommun)
                if promise_again or row["promise_response_days"] is None:
                    kommun_promises = promises[kommun]
                    promise = kommun_promises.get(
                        row["category_id"], kommun_promises.get(None)
                    )
                else:
                    promise = _promise_kept(row)
                fields = milestones_compute(
                    confirmed_at=row["confirmed_at"],
                    status=row["status"],
                    events=events[row["id"]],
                    promise=promise,
                    calendar=calendars[kommun],
                )
                # One UPDATE per report: bulk_update's CASE over a batch costs
                # a comparison per row of the batch for every row and field.
                Report.objects.filter(pk=row["id"]).update(**fields)
    return len(ids)


def milestones_rebuild_open(*, municipality_id: int) -> int:
    """Compute again when a kommun's open reports fall due, after its working
    days changed: each keeps the promise it was received under. Returns how
    many."""
    ids = Report.objects.filter(
        municipality_id=municipality_id, status__in=list(OPEN_STATUSES)
    ).values_list("pk", flat=True)
    return milestones_rebuild(list(ids))
