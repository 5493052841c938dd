"""The signal service: status signals from case systems become the report's state.

Whatever way a signal came in (a signed webhook, an Open311 update POSTed to us,
or one we polled), it ends in ``signal_accept``, which is:

- idempotent: a signal is remembered by (connection, message id); a repeat is
  answered as success and changes nothing;
- order-safe: a signal said to have happened before the newest accepted word on
  the report's status (``Report.status_as_of``, kept by signals and staff alike)
  is kept in the history but does not change the status;
- careful: a signal never makes a hidden or unconfirmed report public;
- at most one append-only ``ReportEvent`` per accepted signal (none for a
  repeated status without a note), broadcast after commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from municipalities.models import Body, Connection, Municipality
from reports.choices import EventKind, ReportStatus
from reports.events import Actor, event_record
from reports.map import map_changed
from reports.models import Report, ReportEvent

from .choices import DeliveryKind
from .models import Delivery, SignalReceipt
from .outbox import deliveries_create

logger = logging.getLogger("knutpunkt.hub")


@dataclass(frozen=True)
class Handover:
    """The report moves to another body (and maybe kommun): "överlämning"."""

    body_slug: str
    municipality_code: str = ""


@dataclass(frozen=True)
class Signal:
    connection_id: int
    message_id: str  # webhook-id, or "open311:<update_id>"
    report_id: int | None = None
    external_id: str = ""
    status: ReportStatus | None = None
    note: str = ""
    happened_at: datetime | None = None
    external_status_code: str = ""
    handler: str = ""
    handover: Handover | None = None
    extra: dict = field(default_factory=dict)


class SignalRejected(Exception):
    """The signal cannot be taken; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


# Database ids are 64-bit: a larger number names no report, and the database
# would refuse to compare with it.
MAX_ID = 2**63 - 1
# The longest message id kept (webhook-id, or "open311:" and an update_id).
MAX_MESSAGE_ID = 200
# A case system's clock may run a little ahead of ours; a time further ahead
# would outrank every later signal, so it is refused.
FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def moment_from(value, field: str, *, now: datetime | None = None) -> datetime:
    """A case system's ISO 8601 date and time with a zone, or SignalRejected(400)
    naming ``field``: also for one that is well-formed but impossible (30
    February, hour 25, offset +25:00, year 0), out of range, before 2000 or
    ahead of our clock (``now``) by more than ``FUTURE_TOLERANCE``."""
    if not isinstance(value, str) or not value.strip():
        raise SignalRejected(400, f"{field} must be an ISO 8601 date and time.")
    try:
        moment = parse_datetime(value.strip())
    except ValueError as exc:
        raise SignalRejected(
            400, f"{field} is not a possible date and time ({exc})."
        ) from None
    if moment is None:
        raise SignalRejected(400, f"{field} is not an ISO 8601 date and time.")
    if timezone.is_naive(moment):
        raise SignalRejected(400, f"{field} needs a time zone.")
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        raise SignalRejected(400, f"{field} is out of range.") from None
    if utc < EARLIEST:
        raise SignalRejected(400, f"{field} is before the year 2000.")
    if utc > (now or timezone.now()) + FUTURE_TOLERANCE:
        raise SignalRejected(400, f"{field} is in the future.")
    return moment


def _check(signal: Signal) -> None:
    """Refuse what the database could not take or would take wrongly."""
    if signal.status is None and not signal.note.strip() and signal.handover is None:
        raise SignalRejected(400, "The signal has no status, note or handover.")
    if signal.report_id is not None and not 0 < signal.report_id <= MAX_ID:
        raise SignalRejected(400, "report_id is out of range.")
    if not signal.message_id or len(signal.message_id) > MAX_MESSAGE_ID:
        raise SignalRejected(
            400, f"The message id must have 1 to {MAX_MESSAGE_ID} characters."
        )
    texts = {
        "message id": signal.message_id,
        "external_id": signal.external_id,
        "note": signal.note,
        "external_status_code": signal.external_status_code,
        "handler": signal.handler,
    }
    if signal.handover is not None:
        texts["handover body"] = signal.handover.body_slug
        texts["handover municipality"] = signal.handover.municipality_code
    for name, text in texts.items():
        if "\x00" in text:
            raise SignalRejected(400, f"{name} contains a NUL character.")


@dataclass(frozen=True)
class SignalOutcome:
    report_id: int
    event_id: int | None
    duplicate: bool = False
    superseded: bool = False


def _report_for(signal: Signal) -> Report:
    """The report the signal names, if it was delivered through this connection."""
    deliveries = Delivery.objects.filter(
        connection_id=signal.connection_id, kind=DeliveryKind.CASE
    )
    if signal.report_id is not None:
        report = Report.objects.filter(pk=signal.report_id).first()
        if report is None:
            raise SignalRejected(404, f"No report {signal.report_id}.")
        if not deliveries.filter(report=report).exists():
            raise SignalRejected(
                403, f"Report {report.pk} was not sent through this connection."
            )
        return report
    if not signal.external_id:
        raise SignalRejected(400, "The signal names no report.")
    delivery = deliveries.filter(external_id=signal.external_id).first()
    if delivery is None:
        if Delivery.objects.filter(
            kind=DeliveryKind.CASE, external_id=signal.external_id
        ).exists():
            raise SignalRejected(
                403,
                f"Case {signal.external_id} was not sent through this connection.",
            )
        raise SignalRejected(404, f"No report with case {signal.external_id}.")
    return delivery.report


def signal_accept(*, signal: Signal) -> SignalOutcome:
    """Take one status signal; see the module's rules."""
    _check(signal)
    try:
        with transaction.atomic():
            return _accept(signal)
    except IntegrityError:
        # Two copies of one signal raced; the other one was taken.
        receipt = SignalReceipt.objects.filter(
            connection_id=signal.connection_id, message_id=signal.message_id
        ).first()
        if receipt is None:
            raise
        return SignalOutcome(receipt.report_id, receipt.event_id, duplicate=True)


def _accept(signal: Signal) -> SignalOutcome:
    receipt = SignalReceipt.objects.filter(
        connection_id=signal.connection_id, message_id=signal.message_id
    ).first()
    if receipt is not None:
        return SignalOutcome(receipt.report_id, receipt.event_id, duplicate=True)
    report = _report_for(signal)
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.status == ReportStatus.UNCONFIRMED:
        raise SignalRejected(409, f"Report {report.pk} is not confirmed.")
    happened_at = signal.happened_at or timezone.now()
    # Ordered by the newest accepted word on the status, not by the last change
    # of it: "fixed" at 10:03 after "fixed" at 10:01 still outranks 10:02.
    stale = report.status_as_of is not None and happened_at < report.status_as_of
    event = None
    data = {k: v for k, v in {"handler": signal.handler[:200]}.items() if v}
    if signal.handover is not None and not stale:
        event = _handover(report, signal, happened_at, data)
    elif signal.status is not None and not stale:
        report.status_as_of = happened_at
        update = ["status_as_of", "updated_at"]
        kind = EventKind.NOTE
        if signal.status != report.status:
            report.status = signal.status
            report.status_changed_at = happened_at
            update += ["status", "status_changed_at"]
            transaction.on_commit(map_changed)
            kind = EventKind.STATUS
        report.save(update_fields=update)
        if kind == EventKind.STATUS or signal.note.strip():
            event = _event(report, signal, kind, signal.status, happened_at, data)
    elif signal.note.strip() or stale:
        kind = EventKind.STATUS if (stale and signal.status) else EventKind.NOTE
        event = _event(
            report,
            signal,
            kind,
            signal.status or "",
            happened_at,
            data,
            superseded=stale,
        )
    SignalReceipt.objects.create(
        connection_id=signal.connection_id,
        message_id=signal.message_id[:200],
        report=report,
        event=event,
    )
    logger.info(
        "Signal %s on report %s: %s",
        signal.message_id,
        report.pk,
        "kept, older than the current status" if stale else "applied",
    )
    return SignalOutcome(report.pk, event.pk if event else None, superseded=stale)


def _event(
    report, signal, kind, status, happened_at, data, *, superseded=False
) -> ReportEvent:
    return event_record(
        report=report,
        actor=Actor.case_system(signal.connection_id),
        kind=kind,
        status=status,
        note=signal.note,
        data=data,
        happened_at=happened_at,
        superseded=superseded,
        external_status_code=signal.external_status_code,
    )


def _handover(report: Report, signal: Signal, happened_at, data) -> ReportEvent:
    """Move the report to another body (and kommun) and deliver it there."""
    handover = signal.handover
    body = Body.objects.filter(slug=handover.body_slug).first()
    if body is None:
        raise SignalRejected(400, f"No body “{handover.body_slug}” to hand over to.")
    municipality = report.municipality
    if handover.municipality_code:
        municipality = Municipality.objects.filter(
            code=handover.municipality_code
        ).first()
        if municipality is None:
            raise SignalRejected(
                400, f"No kommun {handover.municipality_code} to hand over to."
            )
    if not Connection.objects.filter(body=body).exists():
        raise SignalRejected(400, f"{body} takes no reports yet.")
    previous = report.body.name
    report.body = body
    report.municipality = municipality
    update = ["body", "municipality", "updated_at"]
    if signal.status is not None:
        report.status_as_of = happened_at
        update.append("status_as_of")
        if signal.status != report.status:
            report.status = signal.status
            report.status_changed_at = happened_at
            update += ["status", "status_changed_at"]
    report.save(update_fields=update)
    transaction.on_commit(map_changed)
    deliveries_create(report=report)
    return _event(
        report,
        signal,
        EventKind.HANDOVER,
        signal.status or "",
        happened_at,
        {**data, "from": previous, "to": body.name, "municipality": municipality.name},
    )
