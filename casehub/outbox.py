"""The outbox: every confirmed report reaches its body's case system exactly once.

One ``Delivery`` per (report, connection) is written in the transaction that
confirms the report. Dispatchers (a thread pool in the server process in the
embedded profile, in ``manage.py worker`` processes in the scaled one) claim due
deliveries under a lease, send them through the connection's connector outside
any transaction, and record the outcome:

- success: delivered, with the case system's reference, and a public
  ``ReportEvent`` broadcast to whoever watches the report;
- failure: retried with capped exponential backoff and jitter, or after
  ``Retry-After``; given up (dead) once the give-up window has passed;
- a crash in the middle: the lease runs out and the delivery is claimed again
  with the same key, which the case system de-duplicates on.

Per connection: at most ``max_in_flight`` deliveries at once, and a circuit
breaker that stops claiming for a connection after repeated failures (then lets
one probe through), so a system that is down is not hammered and never holds up
deliveries to the others.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from municipalities.models import Connection
from municipalities.routing import delivery_connection
from reports.choices import EventKind
from reports.events import Actor, event_record
from reports.mail import link, site_url
from reports.models import Report, ReportEvent

from .choices import DELIVERY_DUE_STATES, DeliveryState
from .connectors import (
    CaseRequest,
    Contact,
    DeliveryError,
    Photo,
    Sent,
    connector_for,
)
from .models import Delivery, DeliveryAttempt

logger = logging.getLogger("knutpunkt.delivery")

# Set when there may be work: a delivery was queued in this process, or a send
# finished. Dispatchers in other processes find work by polling.
outbox_wake = threading.Event()


def outbox_setting(name: str) -> float:
    return settings.KNUTPUNKT_DELIVERY[name]


# --- queueing ----------------------------------------------------------------


def deliveries_create(*, report: Report) -> Delivery | None:
    """Queue a just-confirmed report for its body's case system. Call inside the
    transaction that confirms it: the outbox row commits with the confirmation."""
    connection = delivery_connection(
        municipality=report.municipality,
        category=report.category,
        body_id=report.body_id,
    )
    if connection is None:
        logger.warning(
            "Report %s: body %s has no connection; not delivered",
            report.pk,
            report.body_id,
        )
        return None
    now = timezone.now()
    delivery, created = Delivery.objects.get_or_create(
        report=report,
        connection=connection,
        defaults={"next_attempt_at": now, "queued_at": now},
    )
    if created:
        transaction.on_commit(outbox_wake.set)
    return delivery


@transaction.atomic
def delivery_resend(*, delivery_id: int) -> Delivery:
    """Staff's "send again": a failed or dead delivery is due now, with a fresh
    give-up window and the same key (so a case that did arrive is not doubled)."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.state in (
        DeliveryState.FAILED,
        DeliveryState.DEAD,
        DeliveryState.PENDING,
    ):
        now = timezone.now()
        delivery.state = DeliveryState.PENDING
        delivery.next_attempt_at = now
        delivery.queued_at = now
        delivery.save(update_fields=["state", "next_attempt_at", "queued_at"])
        transaction.on_commit(outbox_wake.set)
    return delivery


def connection_retry_now(*, connection_id: int) -> None:
    """Staff's "try again now": close the connection's circuit."""
    Connection.objects.filter(pk=connection_id).update(circuit_open_until=None)
    outbox_wake.set()


# --- claiming ----------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    lease_token: uuid.UUID


def _due(now: datetime) -> Q:
    # The leading state filter is redundant but lets SQLite use the
    # (connection, state) index instead of reading a connection's whole history.
    return Q(
        state__in=(*DELIVERY_DUE_STATES, DeliveryState.SENDING),
    ) & (
        Q(state__in=DELIVERY_DUE_STATES, next_attempt_at__lte=now)
        | Q(state=DeliveryState.SENDING, lease_until__lt=now)
    )


def deliveries_claim(*, limit: int, now: datetime | None = None) -> list[Claim]:
    """Lease up to ``limit`` due deliveries, respecting each connection's cap and
    circuit. Connection rows are locked while claiming (skipped if another
    dispatcher holds them), so caps hold across processes."""
    if limit <= 0:
        return []
    now = now or timezone.now()
    threshold = outbox_setting("circuit_threshold")
    due = _due(now)
    # An idle dispatcher asks first, outside a transaction: on SQLite every
    # transaction takes the write lock, which a signal's writer would wait for.
    if not Delivery.objects.filter(due).exists():
        return []
    with transaction.atomic():
        connections = list(
            Connection.objects.select_for_update(skip_locked=True, of=("self",))
            .order_by()  # no join for the default ordering, no lock on bodies
            .filter(is_active=True)
            .filter(Q(circuit_open_until__isnull=True) | Q(circuit_open_until__lte=now))
            .filter(Exists(Delivery.objects.filter(due, connection=OuterRef("pk"))))
            .only("pk", "max_in_flight", "consecutive_failures", "timeout_seconds")
        )
        if not connections:
            return []
        random.shuffle(connections)  # no connection always first in line
        in_flight = dict(
            Delivery.objects.filter(
                connection__in=connections,
                state=DeliveryState.SENDING,
                lease_until__gte=now,
            )
            .values_list("connection")
            .annotate(n=Count("pk"))
        )
        claims: list[Claim] = []
        for connection in connections:
            # Half-open after repeated failures: one probe at a time.
            cap = (
                1
                if connection.consecutive_failures >= threshold
                else max(1, connection.max_in_flight)
            )
            room = min(cap - in_flight.get(connection.pk, 0), limit - len(claims))
            if room <= 0:
                continue
            ids = list(
                Delivery.objects.filter(due, connection=connection)
                .order_by("next_attempt_at", "pk")
                .values_list("pk", flat=True)[:room]
            )
            if not ids:
                continue
            token = uuid.uuid4()
            lease = timedelta(
                seconds=2 * connection.timeout_seconds
                + outbox_setting("lease_margin_seconds")
            )
            Delivery.objects.filter(pk__in=ids).update(
                state=DeliveryState.SENDING,
                lease_token=token,
                lease_until=now + lease,
                attempts=F("attempts") + 1,
            )
            claims.extend(Claim(pk, token) for pk in ids)
            if len(claims) >= limit:
                break
    return claims


# --- sending -------------------------------------------------------------------


def case_request(delivery: Delivery) -> CaseRequest:
    """What the case system is told. Contact details only with the reporter's
    consent or where the connection requires them; never anything else personal."""
    report = delivery.report
    root = site_url(report)
    photos = tuple(
        Photo(
            url=root + photo.image.url,
            filename=f"report-{report.pk}-{photo.position + 1}.jpg",
            read=_reader(photo.image),
        )
        for photo in report.photos.all()
    )
    contact = None
    if report.share_contact or delivery.connection.send_contact:
        contact = Contact(name=report.name, email=report.email, phone=report.phone)
    return CaseRequest(
        key=str(delivery.key),
        report_id=report.pk,
        report_url=link(report, "report-detail", report.pk),
        category_id=report.category_id,
        category_name=report.category.name,
        title=report.title,
        description=report.description,
        lat=report.lat,
        lon=report.lon,
        municipality_code=report.municipality.code,
        municipality_name=report.municipality.name,
        submitted_at=report.confirmed_at or report.created_at,
        answers=dict(report.extra),
        photos=photos,
        contact=contact,
        language=report.language,
    )


def _reader(field):
    def read() -> bytes:
        with field.open("rb") as handle:
            return handle.read()

    return read


def delivery_attempt(*, claim: Claim) -> str | None:
    """Send one claimed delivery and record how it went; the new state, or None
    when the lease was lost to another dispatcher meanwhile."""
    delivery = (
        Delivery.objects.select_related(
            "connection__body",
            "report__category",
            "report__municipality",
            "report__filed_on_site",
        )
        .filter(
            pk=claim.delivery_id,
            lease_token=claim.lease_token,
            state=DeliveryState.SENDING,
        )
        .order_by()[:1]
    )
    delivery = next(iter(delivery), None)
    if delivery is None:
        return None
    started = timezone.now()
    clock = time.monotonic()
    try:
        sent = connector_for(delivery.connection).send(case_request(delivery))
    except DeliveryError as exc:
        return _failed(delivery, claim, exc, started, clock)
    except Exception as exc:  # a connector's bug must neither stop nor lose anything
        logger.exception("Delivery %s: unexpected error", delivery.pk)
        error = DeliveryError(f"Internal error: {exc.__class__.__name__}")
        return _failed(delivery, claim, error, started, clock)
    return _succeeded(delivery, claim, sent, started, clock)


def _elapsed_ms(clock: float) -> int:
    return int((time.monotonic() - clock) * 1000)


def _succeeded(delivery, claim, sent: Sent, started, clock) -> str | None:
    now = timezone.now()
    waiting_for_id = bool(sent.token and not sent.external_id)
    with transaction.atomic():
        updated = Delivery.objects.filter(
            pk=delivery.pk, lease_token=claim.lease_token, state=DeliveryState.SENDING
        ).update(
            state=DeliveryState.DELIVERED,
            delivered_at=now,
            external_id=sent.external_id[:200],
            external_token=sent.token[:200],
            last_error="",
            last_http_status=sent.http_status,
            lease_token=None,
            lease_until=None,
            next_attempt_at=now
            + timedelta(seconds=outbox_setting("token_check_seconds"))
            if waiting_for_id
            else now,
        )
        if not updated:
            return None
        DeliveryAttempt.objects.create(
            delivery=delivery,
            started_at=started,
            duration_ms=_elapsed_ms(clock),
            succeeded=True,
            http_status=sent.http_status,
        )
        # Health: written when it changes, and at most once a second otherwise,
        # so that a busy connection's row is not a point of contention.
        Connection.objects.filter(pk=delivery.connection_id).filter(
            Q(consecutive_failures__gt=0)
            | Q(circuit_open_until__isnull=False)
            | Q(last_success_at__isnull=True)
            | Q(last_success_at__lt=now - timedelta(seconds=1))
        ).update(
            last_success_at=now,
            consecutive_failures=0,
            circuit_open_until=None,
            last_error="",
        )
        _sent_event(delivery, sent.external_id)
    logger.info(
        "Delivery %s of report %s delivered (%s)",
        delivery.pk,
        delivery.report_id,
        sent.external_id or "token",
    )
    return DeliveryState.DELIVERED


def _sent_event(delivery: Delivery, reference: str) -> ReportEvent:
    return event_record(
        report=delivery.report,
        actor=Actor.system(connection_id=delivery.connection_id),
        kind=EventKind.SENT,
        data={"body": delivery.connection.body.name, "reference": reference},
    )


def retry_delay(attempts: int) -> float:
    """Capped exponential backoff with equal jitter: after the nth failure, a
    delay between half and all of base·2ⁿ⁻¹, at most the cap."""
    ceiling = min(
        outbox_setting("backoff_cap_seconds"),
        outbox_setting("backoff_base_seconds") * 2 ** max(0, attempts - 1),
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter)


def _failed(delivery, claim, error: DeliveryError, started, clock) -> str | None:
    now = timezone.now()
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(
            pk=delivery.connection_id
        )
        health = ["last_failure_at", "last_error"]
        connection.last_failure_at = now
        connection.last_error = error.reason[:2000]
        if error.gone:
            # 410: the endpoint is gone for good. Stop using it until staff act;
            # its deliveries wait, nothing is dropped.
            connection.is_active = False
            connection.last_error = (
                f"{error.reason} — switched off; deliveries wait until the "
                "connection is fixed and switched on again."
            )
            health.append("is_active")
        elif error.connection_fault:
            connection.consecutive_failures += 1
            health.append("consecutive_failures")
            over = connection.consecutive_failures - outbox_setting("circuit_threshold")
            if over >= 0:
                cooldown = min(
                    outbox_setting("circuit_cooldown_cap_seconds"),
                    outbox_setting("circuit_cooldown_seconds") * 2**over,
                )
                if error.retry_after:
                    cooldown = max(cooldown, error.retry_after)
                connection.circuit_open_until = now + timedelta(seconds=cooldown)
                health.append("circuit_open_until")
        if error.retry_after and error.http_status == 429:
            # Rate limited: the whole connection waits as it was told.
            connection.circuit_open_until = now + timedelta(
                seconds=min(error.retry_after, outbox_setting("backoff_cap_seconds"))
            )
            health.append("circuit_open_until")
        if error.gone:
            state, next_at = DeliveryState.FAILED, now
        else:
            delay = (
                min(error.retry_after, outbox_setting("backoff_cap_seconds"))
                if error.retry_after
                else retry_delay(delivery.attempts)
            )
            next_at = now + timedelta(seconds=delay)
            give_up_at = delivery.queued_at + timedelta(
                seconds=outbox_setting("give_up_after_seconds")
            )
            state = DeliveryState.DEAD if next_at > give_up_at else DeliveryState.FAILED
        updated = Delivery.objects.filter(
            pk=delivery.pk, lease_token=claim.lease_token, state=DeliveryState.SENDING
        ).update(
            state=state,
            next_attempt_at=next_at,
            last_error=error.reason[:2000],
            last_http_status=error.http_status,
            lease_token=None,
            lease_until=None,
        )
        if not updated:
            # Another dispatcher took the delivery back; its attempt counts.
            transaction.set_rollback(True)
            return None
        connection.save(update_fields=health)
        DeliveryAttempt.objects.create(
            delivery=delivery,
            started_at=started,
            duration_ms=_elapsed_ms(clock),
            http_status=error.http_status,
            error=error.reason[:2000],
        )
    log = logger.error if state == DeliveryState.DEAD else logger.warning
    log(
        "Delivery %s of report %s %s: %s",
        delivery.pk,
        delivery.report_id,
        "given up" if state == DeliveryState.DEAD else "failed",
        error.reason,
    )
    return state


def tokens_resolve(*, now: datetime | None = None, limit: int = 50) -> int:
    """Ask case systems which id their tokens stand for (Open311 ``tokens/``)."""
    now = now or timezone.now()
    pending = list(
        Delivery.objects.filter(
            state=DeliveryState.DELIVERED,
            external_id="",
            next_attempt_at__lte=now,
        )
        .exclude(external_token="")
        .select_related("connection__body")[:limit]
    )
    resolved = 0
    for delivery in pending:
        try:
            external_id = connector_for(delivery.connection).resolve_token(
                delivery.external_token
            )
        except DeliveryError as exc:
            external_id = ""
            Delivery.objects.filter(pk=delivery.pk).update(last_error=exc.reason)
        if not external_id:
            Delivery.objects.filter(pk=delivery.pk).update(
                next_attempt_at=now
                + timedelta(seconds=outbox_setting("token_check_seconds"))
            )
            continue
        with transaction.atomic():
            if Delivery.objects.filter(pk=delivery.pk, external_id="").update(
                external_id=external_id[:200], last_error=""
            ):
                _sent_event(delivery, external_id)
                resolved += 1
    return resolved
