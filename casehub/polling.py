"""Polling a body's Open311 ``servicerequestupdates`` for status changes.

The third way status signals come in (next to signed webhooks and Open311 updates
POSTed to us), for case systems that cannot send them. The delivery dispatcher
calls ``updates_poll_due`` on its loop; every active Open311 connection with
``poll_updates`` is asked once per interval for the updates stamped in the window
``[cursor − OVERLAP, now]`` (the day before now on the first poll). Each update
becomes a ``Signal`` for ``casehub.services.signal_accept``, the same as one POSTed to
us (message id ``open311:<update_id>``), so an update read twice (the overlap
is there for systems that stamp updates late) or both pushed and polled counts
once.

- Claiming: ``updates_polled_at`` is set to now by an UPDATE conditioned on its
  old value, so of any number of dispatchers, in any processes, only one polls a
  connection; the claim holds for the interval.
- An update the hub refuses (unknown case, a case of another connection, an
  unknown status, no time stamp…) is logged with its reason and skipped.
- The cursor is the newest ``updated_datetime`` seen (at most the window's end),
  written only after the window's updates were taken, and never moved back.
- A failed poll (HTTP, a malformed answer) is recorded in the connection's
  ``last_error`` and ``last_failure_at``, keeps the cursor, and is tried again
  after the interval; when polls keep failing, the pause doubles each time up
  to ``MAX_PAUSE`` (``updates_polled_at`` is then set ahead). A successful poll
  clears a polling error (and only that).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from municipalities.choices import ConnectionKind
from municipalities.models import Connection
from reports.choices import status_from_external

from .connectors import DeliveryError, Open311Connector
from .services import Signal, SignalRejected, moment_from, signal_accept

logger = logging.getLogger("knutpunkt.polling")

# Updates stamped up to this long before the cursor are asked for again.
OVERLAP = timedelta(minutes=5)
# How far back the first poll of a connection reaches.
FIRST_WINDOW = timedelta(days=1)
# The longest pause between polls that keep failing.
MAX_PAUSE = timedelta(minutes=30)
# Marks the connection's last_error as the polling's own.
ERROR_PREFIX = "Polling updates: "
# updates_poll_due starts no further poll after this many seconds.
ROUND_BUDGET_SECONDS = 10.0


def poll_interval() -> timedelta:
    seconds = settings.KNUTPUNKT_DELIVERY.get("poll_updates_seconds", 60)
    return timedelta(seconds=float(seconds))


@dataclass(frozen=True)
class PollResult:
    polled: bool  # False: not due, or another dispatcher has it
    received: int = 0
    applied: int = 0  # taken by the hub for the first time
    repeated: int = 0  # taken before (the overlap, or pushed to us too)
    skipped: int = 0  # refused by the hub; logged with the reason
    cursor: datetime | None = None
    error: str = ""


def _pollable():
    return Connection.objects.filter(
        kind=ConnectionKind.OPEN311, is_active=True, poll_updates=True
    )


def updates_claim(*, connection_id: int, now: datetime | None = None):
    """Take the connection for one poll if it is due: the Connection, or None when
    it is not due or another dispatcher took it first."""
    now = now or timezone.now()
    connection = _pollable().filter(pk=connection_id).first()
    if connection is None:
        return None
    old = connection.updates_polled_at
    if old is not None and old > now - poll_interval():
        return None
    unchanged = (
        Q(updates_polled_at__isnull=True) if old is None else Q(updates_polled_at=old)
    )
    if not Connection.objects.filter(unchanged, pk=connection_id).update(
        updates_polled_at=now
    ):
        return None
    connection.updates_polled_at = now
    return connection


def updates_poll(*, connection_id: int, now: datetime | None = None) -> PollResult:
    """Poll one connection for status updates, if it is due; see the module."""
    now = now or timezone.now()
    connection = updates_claim(connection_id=connection_id, now=now)
    if connection is None:
        return PollResult(polled=False)
    cursor = connection.updates_cursor
    start = min(cursor - OVERLAP if cursor else now - FIRST_WINDOW, now)
    try:
        updates = Open311Connector(connection).updates(start, now)
    except DeliveryError as exc:
        return _failed(connection, exc, now)
    except Exception as exc:  # a bug must neither stop the dispatcher nor lose
        logger.exception("Polling connection %s: unexpected error", connection.pk)
        return _failed(
            connection, DeliveryError(f"Internal error: {exc.__class__.__name__}"), now
        )

    parsed = [(_moment(update, now), update) for update in updates]
    # Oldest first, so that a window's updates apply in the order they happened.
    parsed.sort(
        key=lambda item: (item[0] is None, item[0] or now, item[1]["update_id"])
    )
    applied = repeated = skipped = 0
    for moment, update in parsed:
        try:
            outcome = signal_accept(signal=_signal(connection.pk, update, moment, now))
        except SignalRejected as exc:
            skipped += 1
            logger.warning(
                "Polled update %s (connection %s) skipped: %s",
                update["update_id"][:180] or "without an update_id",
                connection.pk,
                exc.reason,
            )
            continue
        except Exception as exc:
            # Taken so far stays taken (a repeat changes nothing); the cursor
            # stays, so the next poll asks for the rest again.
            logger.exception("Polling connection %s: unexpected error", connection.pk)
            return _failed(
                connection,
                DeliveryError(f"Internal error: {exc.__class__.__name__}"),
                now,
            )
        if outcome.duplicate:
            repeated += 1
        else:
            applied += 1

    newest = max((moment for moment, _ in parsed if moment is not None), default=None)
    if newest is not None:
        newest = min(newest, now)  # a clock ahead must not skip the next windows
        Connection.objects.filter(pk=connection.pk).filter(
            Q(updates_cursor__isnull=True) | Q(updates_cursor__lt=newest)
        ).update(updates_cursor=newest)
        if cursor is None or newest > cursor:
            cursor = newest
    Connection.objects.filter(
        pk=connection.pk, last_error__startswith=ERROR_PREFIX
    ).update(last_error="")
    if updates:
        logger.info(
            "Polled connection %s: %s updates, %s applied, %s repeated, %s skipped",
            connection.pk,
            len(updates),
            applied,
            repeated,
            skipped,
        )
    return PollResult(
        polled=True,
        received=len(updates),
        applied=applied,
        repeated=repeated,
        skipped=skipped,
        cursor=cursor,
    )


def updates_poll_due(*, now: datetime | None = None, limit: int = 10) -> int:
    """Poll the connections that are due (longest waiting first); how many were
    polled. Never raises: a failure is logged and recorded on its connection."""
    clock = time.monotonic()
    try:
        moment = now or timezone.now()
        due = list(
            _pollable()
            .filter(
                Q(updates_polled_at__isnull=True)
                | Q(updates_polled_at__lte=moment - poll_interval())
            )
            .order_by(F("updates_polled_at").asc(nulls_first=True), "pk")
            .values_list("pk", flat=True)[:limit]
        )
    except Exception:
        logger.exception("Finding connections to poll for updates failed")
        return 0
    polled = 0
    for connection_id in due:
        if time.monotonic() - clock > ROUND_BUDGET_SECONDS:
            break  # the rest are due in the next round; deliveries wait meanwhile
        try:
            polled += updates_poll(connection_id=connection_id, now=now).polled
        except Exception:
            logger.exception("Polling connection %s for updates failed", connection_id)
    return polled


# --- helpers -------------------------------------------------------------------


def _moment(update: dict, now: datetime) -> datetime | None:
    """The update's time, or None when it has none that the hub would take."""
    try:
        return moment_from(update["updated_datetime"], "updated_datetime", now=now)
    except SignalRejected:
        return None


def _signal(
    connection_id: int, update: dict, moment: datetime | None, now: datetime
) -> Signal:
    """The hub's signal for one update, mapped as the POSTed updates are."""
    if not update["update_id"]:
        raise SignalRejected(400, "The update has no update_id.")
    if moment is None:
        # The same check again, for its reason.
        moment = moment_from(update["updated_datetime"], "updated_datetime", now=now)
    status = None
    if update["status"]:
        status = status_from_external(update["status"])
        if status is None:
            raise SignalRejected(400, f"Unknown status “{update['status'][:50]}”.")
    return Signal(
        connection_id=connection_id,
        message_id=f"open311:{update['update_id']}",
        external_id=update["service_request_id"][:200],
        status=status,
        note=update["description"][:4000],
        happened_at=moment,
        external_status_code=update["external_status_code"][:100],
    )


def _failed(connection: Connection, error: DeliveryError, now: datetime) -> PollResult:
    """Record a failed poll and set when the next one may start."""
    interval = poll_interval()
    pause = interval
    if connection.last_error.startswith(ERROR_PREFIX) and connection.last_failure_at:
        # The poll before failed too: wait twice as long as since then.
        pause = max(interval, 2 * (now - connection.last_failure_at))
    if error.retry_after:
        pause = max(pause, timedelta(seconds=error.retry_after))
    pause = min(pause, MAX_PAUSE)
    reason = f"{ERROR_PREFIX}{error.reason}"[:2000]
    Connection.objects.filter(pk=connection.pk).update(
        last_error=reason, last_failure_at=now
    )
    if pause > interval:
        # Due again once the interval has passed since this (later) time.
        Connection.objects.filter(pk=connection.pk, updates_polled_at=now).update(
            updates_polled_at=now + (pause - interval)
        )
    logger.warning(
        "Polling connection %s failed (next try in %s s): %s",
        connection.pk,
        int(pause.total_seconds()),
        error.reason,
    )
    return PollResult(polled=True, cursor=connection.updates_cursor, error=reason)
