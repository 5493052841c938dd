"""The outbox: every confirmed report reaches its body's case system exactly once,
and so does every change staff make to it in Knutpunkt afterwards.

One ``Delivery`` per (report, connection) is written in the transaction that
confirms the report (kind "case"). One per (event, connection) is written in the
transaction of a staff member's status change, public reply or handover (kind
"update", ``updates_queue``): it tells the case system that holds the case, and
is not due until that case is delivered with its id there. Both kinds are
worked alike, with the same key, retry, health and give-up rules. Dispatchers
(a thread of the server process in the embedded profile, of ``manage.py worker``
processes in the scaled one) work it in rounds, each a few statements for many
deliveries:

- claim (``deliveries_claim``): one transaction leases up to a batch of due
  deliveries, within each connection's cap and circuit;
- load (``deliveries_load``): one read of everything their case systems are
  told, photos and Open311 service codes included;
- send (``job_send``): on the dispatcher's threads, through the connection's
  connector, outside any transaction and without touching the database;
- record (``outcomes_record``): one transaction for every outcome that came
  back meanwhile: the deliveries' new states, their attempts, the "sent"
  events (broadcast to watchers after commit) and the connections' health.

A success is delivered, with the case system's reference. A failure is retried
with capped exponential backoff and jitter, or after ``Retry-After``, and given
up (dead) once the give-up window has passed. A lease is short and renewed by
its living dispatcher while the send lasts: a killed dispatcher's leases run
out within ``lease_seconds`` and another takes the deliveries back with the
same key, which the case system de-duplicates on.

Per connection: at most ``max_in_flight`` deliveries at once, and a circuit
breaker that stops claiming for a connection after repeated failures (then lets
one probe through; each failed probe doubles the pause), so a system that is
down is not hammered and never holds up deliveries to the others. Failures of
requests already under way when the circuit opened neither count nor lengthen
the pause.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection as db
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from wagtail.models import Site

from municipalities.audit import audit_kommun_of, audit_record
from municipalities.choices import ConnectionKind
from municipalities.models import Category, Connection, Municipality
from municipalities.routing import delivery_connection
from reports.choices import PUBLIC_STATUSES, ActorKind, EventKind, ReportStatus
from reports.events import Actor, event_new, event_record
from reports.live import events_broadcast
from reports.mail import link, site_url
from reports.models import Report, ReportEvent

from .choices import DELIVERY_DUE_STATES, DeliveryKind, DeliveryState
from .connectors import (
    CaseRequest,
    Contact,
    DeliveryError,
    Handover,
    Photo,
    Sent,
    UpdateRequest,
    connector_for,
)
from .connectors.email import reply_address
from .models import Delivery, DeliveryAttempt

logger = logging.getLogger("knutpunkt.delivery")

# Set when there may be work: a delivery was queued in this process, or a send
# finished. Dispatchers in other processes find work by polling.
outbox_wake = threading.Event()

# A connection's health is written on success at most this often, so that a busy
# connection's row is not a point of contention.
HEALTH_WRITE_SECONDS = 1.0


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
        kind=DeliveryKind.CASE,
        defaults={"next_attempt_at": now, "queued_at": now},
    )
    if not created and delivery.state == DeliveryState.WITHDRAWN:
        # Handed back to a body it was withdrawn from: it goes after all.
        delivery.state = DeliveryState.PENDING
        delivery.next_attempt_at = delivery.queued_at = now
        delivery.save(update_fields=["state", "next_attempt_at", "queued_at"])
        created = True
    if created:
        transaction.on_commit(outbox_wake.set)
    return delivery


# The changes a case system is told of (staff's, and citizens' own: an update,
# "it is fixed", a reopening), and the kinds of connection told: an inbox
# connection's case is the report itself.
UPDATED_EVENT_KINDS = (
    EventKind.STATUS,
    EventKind.NOTE,
    EventKind.HANDOVER,
    EventKind.UPDATE,
)
UPDATED_CONNECTION_KINDS = (
    ConnectionKind.OPEN311,
    ConnectionKind.WEBHOOK,
    ConnectionKind.EMAIL,
)


def updates_queue(*, event: ReportEvent) -> list[Delivery]:
    """Queue a change made in Knutpunkt for the case systems holding the report's
    case: call in the transaction that records ``event``. A public status change
    or reply goes to the cases of the report's body; a handover (``data``
    naming ``from_body_id``) to the cases of the body it left. Nothing for an
    internal event, nor for one that came from a case system (it knows)."""
    if (
        event.actor_kind == ActorKind.CONNECTION
        or not event.is_public
        or event.kind not in UPDATED_EVENT_KINDS
    ):
        return []
    if event.kind == EventKind.HANDOVER:
        body_id = (event.data or {}).get("from_body_id")
        if body_id is None:
            return []
    else:
        body_id = Report.objects.values_list("body_id", flat=True).get(
            pk=event.report_id
        )
    cases = (
        Delivery.objects.filter(
            kind=DeliveryKind.CASE,
            report_id=event.report_id,
            connection__body_id=body_id,
            connection__kind__in=UPDATED_CONNECTION_KINDS,
        )
        .exclude(connection_id=event.connection_id)
        .exclude(state=DeliveryState.WITHDRAWN)
        .order_by("pk")
        .values_list("connection_id", flat=True)
    )
    return _updates_about(event, cases)


def _updates_about(event: ReportEvent, connection_ids) -> list[Delivery]:
    """One update about ``event`` per connection (once: a second call finds
    them), worked as soon as the outbox wakes after commit."""
    now = timezone.now()
    updates = [
        Delivery.objects.get_or_create(
            kind=DeliveryKind.UPDATE,
            event=event,
            connection_id=connection_id,
            defaults={
                "report_id": event.report_id,
                "next_attempt_at": now,
                "queued_at": now,
            },
        )[0]
        for connection_id in connection_ids
    ]
    if updates:
        transaction.on_commit(outbox_wake.set)
    return updates


def erasure_notices_queue(
    *, event: ReportEvent, connection_ids: Sequence[int]
) -> list[Delivery]:
    """Tell the case systems that were given the reporter's contact details
    with the report's case (``connection_ids``, worked out by the caller before
    erasing them) that the reporter had their personal data erased: one update
    per connection, about ``event`` (the report's internal "erased" event).
    Call in the erasure's transaction. An inbox connection's case is the
    report itself, erased already, so it is told nothing; a case not yet sent
    (never tried, or withdrawn) will carry no contact details, so it is not
    told either. Like any update, a notice waits until its case is delivered
    with an id there."""
    cases = (
        Delivery.objects.filter(
            kind=DeliveryKind.CASE,
            report_id=event.report_id,
            connection_id__in=list(connection_ids),
            connection__kind__in=UPDATED_CONNECTION_KINDS,
        )
        .exclude(state=DeliveryState.WITHDRAWN)
        .exclude(state=DeliveryState.PENDING, attempts=0)
        .order_by("pk")
        .values_list("connection_id", flat=True)
    )
    return _updates_about(event, cases)


def contact_connections(*, report: Report) -> list[int]:
    """The connections whose case of the report carried (or, being sent,
    carries) the reporter's contact details: see ``case_request``."""
    cases = Delivery.objects.filter(kind=DeliveryKind.CASE, report=report).exclude(
        state=DeliveryState.WITHDRAWN
    )
    if not report.share_contact:
        cases = cases.filter(connection__send_contact=True)
    return list(cases.values_list("connection_id", flat=True))


def cases_withdraw(*, report_id: int, keep_connection_id: int | None) -> int:
    """A report handed over before its case reached the body it left: its cases
    not yet sent (waiting, failed or given up) to any connection but
    ``keep_connection_id`` are withdrawn, with their updates, so that the body it
    left never receives it. One being sent goes on; the body is then told of the
    handover. Call in the handover's transaction; how many were withdrawn."""
    unsent = (DeliveryState.PENDING, DeliveryState.FAILED, DeliveryState.DEAD)
    withdrawn = (
        Delivery.objects.filter(
            report_id=report_id, kind=DeliveryKind.CASE, state__in=unsent
        )
        .exclude(connection_id=keep_connection_id)
        .values_list("connection_id", flat=True)
    )
    connections = list(withdrawn)
    if not connections:
        return 0
    Delivery.objects.filter(
        report_id=report_id, connection_id__in=connections, state__in=unsent
    ).update(state=DeliveryState.WITHDRAWN, lease_token=None, lease_until=None)
    return len(connections)


@transaction.atomic
def delivery_resend(*, delivery_id: int, actor=None) -> Delivery:
    """Staff's "send again": a failed or dead delivery is due now, with a fresh
    give-up window and the same key (so a case that did arrive is not doubled).
    ``actor``: the member of staff, recorded in the audit log."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.state in (
        DeliveryState.FAILED,
        DeliveryState.DEAD,
        DeliveryState.PENDING,
    ):
        now = timezone.now()
        if actor is not None:
            audit_record(
                actor=actor,
                action="delivery.resend",
                target=delivery,
                object_label=f"#{delivery.report_id} → {delivery.connection}",
                municipality=delivery.report.municipality_id,
                before={"state": delivery.state, "attempts": delivery.attempts},
                after={"state": DeliveryState.PENDING},
            )
        delivery.state = DeliveryState.PENDING
        delivery.next_attempt_at = now
        delivery.queued_at = now
        delivery.save(update_fields=["state", "next_attempt_at", "queued_at"])
        transaction.on_commit(outbox_wake.set)
    return delivery


@transaction.atomic
def connection_retry_now(*, connection_id: int, actor=None) -> None:
    """Staff's "try again now": close the connection's circuit. ``actor``: the
    member of staff, recorded in the audit log."""
    connection = Connection.objects.select_for_update().filter(pk=connection_id).first()
    if connection is None:
        return
    if actor is not None:
        audit_record(
            actor=actor,
            action="connection.retry",
            target=connection,
            municipality=audit_kommun_of(connection, actor),
            before={"circuit_open_until": connection.circuit_open_until},
            after={"circuit_open_until": None},
        )
    Connection.objects.filter(pk=connection_id).update(
        circuit_open_until=None, circuit_opened_at=None
    )
    transaction.on_commit(outbox_wake.set)


# --- claiming ----------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    lease_token: uuid.UUID


def _ready() -> Q:
    """A case, or an update whose case is delivered with its id in the case
    system (until then there is nothing to update there)."""
    delivered_case = Delivery.objects.filter(
        kind=DeliveryKind.CASE,
        report=OuterRef("report"),
        connection=OuterRef("connection"),
        state=DeliveryState.DELIVERED,
    ).exclude(external_id="")
    return Q(kind=DeliveryKind.CASE) | Q(Exists(delivered_case))


def _due(now: datetime) -> Q:
    # The leading state filter is redundant but lets SQLite use the
    # (connection, state) index instead of reading a connection's whole history.
    return Q(
        state__in=(*DELIVERY_DUE_STATES, DeliveryState.SENDING),
    ) & (
        (Q(state__in=DELIVERY_DUE_STATES, next_attempt_at__lte=now) & _ready())
        | Q(state=DeliveryState.SENDING, lease_until__lt=now)
    )


def _lease(now: datetime) -> datetime:
    return now + timedelta(seconds=outbox_setting("lease_seconds"))


def deliveries_claim(
    *, limit: int, now: datetime | None = None, look_first: bool = True
) -> list[Claim]:
    """Lease up to ``limit`` due deliveries, oldest first, within each
    connection's cap and circuit: one transaction for the batch. Connection rows
    are locked while claiming (skipped if another dispatcher holds them), so caps
    hold across processes. ``look_first``: ask with a plain read whether there is
    anything due before taking the transaction (what an idle dispatcher does)."""
    if limit <= 0:
        return []
    now = now or timezone.now()
    due = _due(now)
    # An idle dispatcher asks first, outside a transaction: on SQLite every
    # transaction takes the write lock, which a signal's writer would wait for.
    if look_first and not Delivery.objects.filter(due).exists():
        return []
    threshold = outbox_setting("circuit_threshold")
    with transaction.atomic():
        connections = list(
            Connection.objects.select_for_update(skip_locked=True, of=("self",))
            .order_by()  # no join for the default ordering, no lock on bodies
            .filter(is_active=True)
            .filter(Q(circuit_open_until__isnull=True) | Q(circuit_open_until__lte=now))
            .filter(Exists(Delivery.objects.filter(due, connection=OuterRef("pk"))))
            .only("pk", "max_in_flight", "consecutive_failures")
        )
        if not connections:
            return []
        in_flight = dict(
            Delivery.objects.filter(
                connection__in=connections,
                state=DeliveryState.SENDING,
                lease_until__gte=now,
            )
            .values_list("connection")
            .annotate(n=Count("pk"))
        )
        room = {}
        for connection in connections:
            # Half-open after repeated failures: one probe at a time.
            cap = (
                1
                if connection.consecutive_failures >= threshold
                else max(1, connection.max_in_flight)
            )
            if cap > in_flight.get(connection.pk, 0):
                room[connection.pk] = cap - in_flight.get(connection.pk, 0)
        if not room:
            return []
        # The oldest due deliveries of the connections with room, a range of the
        # (state, next_attempt_at) index per state: more than the batch, so that
        # one connection's backlog does not fill it alone.
        window = max(4 * limit, 64)
        candidates = [
            row
            for state in DELIVERY_DUE_STATES
            for row in Delivery.objects.filter(
                state=state, next_attempt_at__lte=now, connection_id__in=list(room)
            )
            .filter(_ready())
            .order_by("next_attempt_at")
            .values_list("pk", "connection_id", "next_attempt_at")[:window]
        ]
        # Leases that ran out: their dispatcher died or lost its database.
        candidates += Delivery.objects.filter(
            state=DeliveryState.SENDING,
            lease_until__lt=now,
            connection_id__in=list(room),
        ).values_list("pk", "connection_id", "next_attempt_at")[:window]
        candidates.sort(key=lambda row: (row[2], row[0]))
        chosen = []
        for pk, connection_id, _due_at in candidates:
            if room[connection_id] > 0:
                room[connection_id] -= 1
                chosen.append(pk)
                if len(chosen) == limit:
                    break
        if not chosen:
            return []
        token = uuid.uuid4()
        Delivery.objects.filter(pk__in=chosen).update(
            state=DeliveryState.SENDING,
            lease_token=token,
            lease_until=_lease(now),
            attempts=F("attempts") + 1,
        )
    return [Claim(pk, token) for pk in chosen]


def leases_renew(*, tokens: Sequence[uuid.UUID], now: datetime | None = None) -> int:
    """Keep the leases of deliveries still being sent; how many there were."""
    if not tokens:
        return 0
    now = now or timezone.now()
    return Delivery.objects.filter(
        lease_token__in=list(tokens), state=DeliveryState.SENDING
    ).update(lease_until=_lease(now))


# --- loading -------------------------------------------------------------------


@dataclass
class Job:
    """One claimed delivery, with all its case system is to be told."""

    claim: Claim
    delivery: Delivery
    request: CaseRequest | UpdateRequest | None = None
    error: DeliveryError | None = None  # the request could not be made


def case_request(delivery: Delivery) -> CaseRequest:
    """What the case system is told. Contact details only with the reporter's
    consent or where the connection requires them; never anything else personal."""
    report = delivery.report
    photos = _photos(report, event=None)  # a citizen's update's are not the report's
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


# Who a change came from, as case systems are told: staff (or Knutpunkt), or
# a citizen (never by name).
CITIZEN_AUTHORS = {ActorKind.REPORTER: "reporter", ActorKind.FOLLOWER: "follower"}


def update_request(
    delivery: Delivery, event: ReportEvent, case_id: str
) -> UpdateRequest:
    """What the case system is told of a change: the status and public reply,
    or where the report was handed over to; a citizen's update with its
    photos. Nothing personal."""
    report = delivery.report
    handover = None
    description = event.note
    if event.kind == EventKind.ERASED:
        with translation.override("sv"):
            description = _(
                "The reporter has had their personal data erased from Knutpunkt "
                "(GDPR article 17). Please erase the name, e-mail address and "
                "phone number you received with this case, unless the law "
                "requires you to keep them."
            )
    elif event.kind == EventKind.HANDOVER:
        data = event.data or {}
        handover = Handover(
            body_name=str(data.get("to", "")),
            municipality_code=str(data.get("municipality_code", "")),
            municipality_name=str(data.get("municipality", "")),
            category_name=str(data.get("category", "")),
        )
        with translation.override("sv"):
            told = _("Handed over to %(body)s, %(kommun)s.") % {
                "body": handover.body_name,
                "kommun": handover.municipality_name,
            }
        description = f"{told}\n\n{event.note}".strip()
    author = CITIZEN_AUTHORS.get(event.actor_kind, "staff")
    if author == "reporter" and event.kind == EventKind.STATUS:
        data = event.data or {}
        with translation.override("sv"):
            told = (
                _(
                    "The reporter says the problem is not fixed: the report is open again."
                )
                if data.get("reopened")
                else _("The reporter says the problem is fixed.")
            )
        description = f"{told}\n\n{event.note}".strip()
    status = event.status or report.status
    with translation.override("sv"):
        label = str(ReportStatus(status).label) if status in ReportStatus.values else ""
    # The update's own photos, as they are now (one hidden by staff is gone).
    photos = _photos(report, event=event)
    return UpdateRequest(
        key=str(delivery.key),
        report_id=report.pk,
        report_url=link(report, "report-detail", report.pk),
        case_id=case_id,
        update_id=str(event.pk),
        status=str(status),
        description=description,
        happened_at=event.happened_at or event.created_at,
        category_id=report.category_id,
        category_name=report.category.name,
        handover=handover,
        reply_to=reply_address(report.pk),
        status_label=label,
        erasure=event.kind == EventKind.ERASED,
        author=author,
        reopened=bool((event.data or {}).get("reopened")),
        photos=photos,
    )


def _photos(report: Report, *, event: ReportEvent | None) -> tuple[Photo, ...]:
    """The report's own photos (``event`` None) or a citizen's update's, by
    their public address on the report's site, read when sent."""
    root = site_url(report)
    event_id = event.pk if event is not None else None
    stem = f"report-{report.pk}" + (f"-update-{event_id}" if event_id else "")
    return tuple(
        Photo(
            url=root + photo.image.url,
            filename=f"{stem}-{photo.position + 1}.jpg",
            read=_reader(photo.image),
        )
        for photo in report.photos.all()
        if photo.event_id == event_id
    )


def _reader(field):
    def read() -> bytes:
        with field.open("rb") as handle:
            return handle.read()

    return read


def deliveries_load(claims: Sequence[Claim]) -> list[Job]:
    """The claimed deliveries whose lease is still the claim's, with everything
    sending them needs: their reports and photos, and once for the batch the
    connections (with bodies and service codes), categories, kommuner and sites
    they share."""
    if not claims:
        return []
    tokens = {claim.delivery_id: claim.lease_token for claim in claims}
    deliveries = list(
        Delivery.objects.select_related("report")
        .prefetch_related("report__photos")
        .filter(pk__in=list(tokens), state=DeliveryState.SENDING)
        .filter(lease_token__in=set(tokens.values()))
        .order_by()
    )
    reports = [delivery.report for delivery in deliveries]
    connections = (
        Connection.objects.select_related("body")
        .prefetch_related("services")
        .in_bulk({d.connection_id for d in deliveries})
    )
    categories = Category.objects.in_bulk({r.category_id for r in reports})
    municipalities = Municipality.objects.in_bulk({r.municipality_id for r in reports})
    sites = Site.objects.in_bulk({r.filed_on_site_id for r in reports} - {None})
    # Updates: their events and the ids of their cases (none read without one).
    updates = [d for d in deliveries if d.kind == DeliveryKind.UPDATE]
    events, case_ids = {}, {}
    if updates:
        events = ReportEvent.objects.in_bulk({d.event_id for d in updates})
        case_ids = {
            (report_id, connection_id): external_id
            for report_id, connection_id, external_id in Delivery.objects.filter(
                kind=DeliveryKind.CASE,
                state=DeliveryState.DELIVERED,
                report_id__in={d.report_id for d in updates},
                connection_id__in={d.connection_id for d in updates},
            )
            .exclude(external_id="")
            .values_list("report_id", "connection_id", "external_id")
        }
    jobs = []
    for delivery in deliveries:
        claim = Claim(delivery.pk, tokens[delivery.pk])
        if delivery.lease_token != claim.lease_token:
            continue
        report = delivery.report
        delivery.connection = connections[delivery.connection_id]
        report.category = categories[report.category_id]
        report.municipality = municipalities[report.municipality_id]
        report.filed_on_site = sites.get(report.filed_on_site_id)
        try:
            if delivery.kind == DeliveryKind.UPDATE:
                request = update_request(
                    delivery,
                    events[delivery.event_id],
                    case_ids[(delivery.report_id, delivery.connection_id)],
                )
            else:
                request = case_request(delivery)
            jobs.append(Job(claim, delivery, request=request))
        except Exception as exc:  # a report the request cannot be made of
            logger.exception("Delivery %s: the request could not be made", delivery.pk)
            error = DeliveryError(f"Internal error: {exc.__class__.__name__}")
            jobs.append(Job(claim, delivery, error=error))
    return jobs


# --- sending -------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    job: Job
    started: datetime
    duration_ms: int
    sent: Sent | None = None
    error: DeliveryError | None = None


def job_send(job: Job) -> Outcome:
    """Send one loaded delivery to its case system: no database, no transaction."""
    started = timezone.now()
    clock = time.monotonic()
    if job.error is not None:
        return Outcome(job, started, 0, error=job.error)
    try:
        connector = connector_for(job.delivery.connection)
        if isinstance(job.request, UpdateRequest):
            sent = connector.send_update(job.request)
        else:
            sent = connector.send(job.request)
    except DeliveryError as exc:
        return Outcome(job, started, _elapsed_ms(clock), error=exc)
    except Exception as exc:  # a connector's bug must neither stop nor lose anything
        logger.exception("Delivery %s: unexpected error", job.delivery.pk)
        error = DeliveryError(f"Internal error: {exc.__class__.__name__}")
        return Outcome(job, started, _elapsed_ms(clock), error=error)
    return Outcome(job, started, _elapsed_ms(clock), sent=sent)


def _elapsed_ms(clock: float) -> int:
    return int((time.monotonic() - clock) * 1000)


# --- recording -------------------------------------------------------------------


def retry_delay(attempts: int) -> float:
    """Capped exponential backoff with equal jitter: after the nth failure, a
    delay between half and all of base·2ⁿ⁻¹, at most the cap."""
    ceiling = min(
        outbox_setting("backoff_cap_seconds"),
        outbox_setting("backoff_base_seconds") * 2 ** max(0, attempts - 1),
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter)


class _Health:
    """A connection's health fields, changed in memory by a batch's outcomes in
    the order they came back, then written once."""

    FIELDS = (
        "last_success_at",
        "last_failure_at",
        "consecutive_failures",
        "circuit_open_until",
        "circuit_opened_at",
        "last_error",
        "is_active",
    )

    def __init__(self, connection: Connection):
        self.connection = connection
        self.changed: set[str] = set()

    def set(self, **fields) -> None:
        for name, value in fields.items():
            if getattr(self.connection, name) != value:
                setattr(self.connection, name, value)
                self.changed.add(name)

    def succeeded(self, now: datetime) -> None:
        connection = self.connection
        if (
            connection.consecutive_failures
            or connection.circuit_open_until
            or connection.last_error
            or connection.last_success_at is None
            or connection.last_success_at
            < now - timedelta(seconds=HEALTH_WRITE_SECONDS)
        ):
            self.set(
                last_success_at=now,
                consecutive_failures=0,
                circuit_open_until=None,
                circuit_opened_at=None,
                last_error="",
            )

    def failed(self, error: DeliveryError, started: datetime, now: datetime) -> None:
        connection = self.connection
        self.set(last_failure_at=now, last_error=error.reason[:2000])
        if error.gone:
            # 410: the endpoint is gone for good. Stop using it until staff act;
            # its deliveries wait, nothing is dropped.
            self.set(
                is_active=False,
                last_error=(
                    f"{error.reason} — switched off; deliveries wait until the "
                    "connection is fixed and switched on again."
                )[:2000],
            )
        elif error.connection_fault:
            opened = connection.circuit_opened_at
            if opened is None or started >= opened:
                # Not a request that was already under way when the circuit
                # opened: those say nothing about the system since.
                failures = connection.consecutive_failures + 1
                self.set(consecutive_failures=failures)
                over = failures - outbox_setting("circuit_threshold")
                if over >= 0:
                    cooldown = min(
                        outbox_setting("circuit_cooldown_cap_seconds"),
                        outbox_setting("circuit_cooldown_seconds") * 2**over,
                    )
                    if error.retry_after:
                        cooldown = max(cooldown, error.retry_after)
                    self.set(
                        circuit_open_until=now + timedelta(seconds=cooldown),
                        circuit_opened_at=now,
                    )
        if error.retry_after and error.http_status == 429:
            # Rate limited: the whole connection waits as it was told.
            pause = min(error.retry_after, outbox_setting("backoff_cap_seconds"))
            until = now + timedelta(seconds=pause)
            if (
                connection.circuit_open_until is None
                or until > connection.circuit_open_until
            ):
                self.set(circuit_open_until=until)

    def save(self) -> None:
        if self.changed:
            Connection.objects.filter(pk=self.connection.pk).update(
                **{name: getattr(self.connection, name) for name in self.changed}
            )


def outcomes_record(outcomes: Sequence[Outcome]) -> list[str | None]:
    """Record what came back, in one transaction: each outcome's new state, or
    None where the lease was lost to another dispatcher meanwhile (its result is
    discarded; the other's attempt counts)."""
    if not outcomes:
        return []
    now = timezone.now()
    states: list[str | None] = []
    delivered: list[Delivery] = []
    attempts: list[DeliveryAttempt] = []
    events: list[ReportEvent] = []
    public: set[int] = set()
    with transaction.atomic():
        # Which of these leases are still ours: locked, so that no dispatcher
        # takes a delivery back between this read and the writes below.
        ours = set(
            Delivery.objects.select_for_update()
            .filter(pk__in=[o.job.delivery.pk for o in outcomes])
            .filter(state=DeliveryState.SENDING)
            .filter(lease_token__in={o.job.claim.lease_token for o in outcomes})
            .order_by()
            .values_list("pk", "lease_token")
        )
        health = {
            connection.pk: _Health(connection)
            for connection in Connection.objects.select_for_update()
            .filter(pk__in={o.job.delivery.connection_id for o in outcomes})
            .order_by("pk")
        }
        for outcome in outcomes:
            delivery = outcome.job.delivery
            if (delivery.pk, outcome.job.claim.lease_token) not in ours:
                states.append(None)
                continue
            connection = health[delivery.connection_id]
            if outcome.sent is not None:
                delivered.append(_succeeded(outcome, now))
                states.append(DeliveryState.DELIVERED)
                connection.succeeded(now)
                report = delivery.report
                # An update's own event is on the timeline already.
                if delivery.kind == DeliveryKind.CASE:
                    events.append(
                        event_new(
                            report=report,
                            actor=Actor.system(connection_id=delivery.connection_id),
                            kind=EventKind.SENT,
                            data={
                                "body": delivery.connection.body.name,
                                "reference": outcome.sent.external_id,
                            },
                        )
                    )
                    if report.status in PUBLIC_STATUSES and not report.is_hidden:
                        public.add(report.pk)
            else:
                states.append(_failed(outcome, now))
                connection.failed(outcome.error, outcome.started, now)
            attempts.append(
                DeliveryAttempt(
                    delivery_id=delivery.pk,
                    started_at=outcome.started,
                    duration_ms=outcome.duration_ms,
                    succeeded=outcome.sent is not None,
                    http_status=(outcome.sent or outcome.error).http_status,
                    error="" if outcome.error is None else outcome.error.reason[:2000],
                )
            )
        _write_delivered(delivered)
        for connection in health.values():
            connection.save()
        DeliveryAttempt.objects.bulk_create(attempts)
        ReportEvent.objects.bulk_create(events)
        transaction.on_commit(lambda: events_broadcast(events, public=public))
    for outcome, state in zip(outcomes, states, strict=True):
        _log(outcome, state)
    return states


# What a success changes in its delivery row.
DELIVERED_FIELDS = (
    "state",
    "delivered_at",
    "external_id",
    "external_token",
    "last_error",
    "last_http_status",
    "lease_token",
    "lease_until",
    "next_attempt_at",
)


def _write_delivered(deliveries: Sequence[Delivery]) -> None:
    """One prepared UPDATE run for every delivered row of a batch. Django's
    ``bulk_update`` would build one CASE per field over all rows, which costs
    more than the sending did; ``executemany`` sends the same statement with
    each row's values (psycopg pipelines them)."""
    if not deliveries:
        return
    quote = db.ops.quote_name
    fields = [Delivery._meta.get_field(name) for name in DELIVERED_FIELDS]
    columns = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    # Names from the model's own metadata; every value is a parameter.
    sql = (
        f"UPDATE {quote(Delivery._meta.db_table)} SET {columns} "  # noqa: S608
        f"WHERE {quote(Delivery._meta.pk.column)} = %s"
    )
    rows = [
        [
            field.get_db_prep_save(getattr(delivery, field.attname), db)
            for field in fields
        ]
        + [delivery.pk]
        for delivery in deliveries
    ]
    with db.cursor() as cursor:
        cursor.executemany(sql, rows)


def _succeeded(outcome: Outcome, now: datetime) -> Delivery:
    """The delivery as delivered (written with the batch's others)."""
    sent, delivery = outcome.sent, outcome.job.delivery
    waiting_for_id = bool(sent.token and not sent.external_id)
    waiting_for_id = waiting_for_id and delivery.kind == DeliveryKind.CASE
    delivery.state = DeliveryState.DELIVERED
    delivery.delivered_at = now
    delivery.external_id = sent.external_id[:200]
    delivery.external_token = sent.token[:200]
    delivery.last_error = ""
    delivery.last_http_status = sent.http_status
    delivery.lease_token = None
    delivery.lease_until = None
    delivery.next_attempt_at = (
        now + timedelta(seconds=outbox_setting("token_check_seconds"))
        if waiting_for_id
        else now
    )
    return delivery


def _failed(outcome: Outcome, now: datetime) -> str:
    error, delivery = outcome.error, outcome.job.delivery
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
    Delivery.objects.filter(pk=delivery.pk).update(
        state=state,
        next_attempt_at=next_at,
        last_error=error.reason[:2000],
        last_http_status=error.http_status,
        lease_token=None,
        lease_until=None,
    )
    return state


def _log(outcome: Outcome, state: str | None) -> None:
    delivery = outcome.job.delivery
    if state is None:
        logger.warning(
            "Delivery %s of report %s: the lease was lost meanwhile; result discarded",
            delivery.pk,
            delivery.report_id,
        )
    elif state == DeliveryState.DELIVERED:
        logger.info(
            "Delivery %s of report %s delivered (%s)",
            delivery.pk,
            delivery.report_id,
            outcome.sent.external_id or "token",
        )
    else:
        log = logger.error if state == DeliveryState.DEAD else logger.warning
        log(
            "Delivery %s of report %s %s: %s",
            delivery.pk,
            delivery.report_id,
            "given up" if state == DeliveryState.DEAD else "failed",
            outcome.error.reason,
        )


def delivery_attempt(*, claim: Claim) -> str | None:
    """Load, send and record one claimed delivery: its new state, or None when
    the lease was lost to another dispatcher meanwhile."""
    jobs = deliveries_load([claim])
    if not jobs:
        return None
    return outcomes_record([job_send(jobs[0])])[0]


# --- Open311 tokens --------------------------------------------------------------


def tokens_resolve(*, now: datetime | None = None, limit: int = 50) -> int:
    """Ask case systems which id their tokens stand for (Open311 ``tokens/``)."""
    now = now or timezone.now()
    pending = list(
        Delivery.objects.filter(
            kind=DeliveryKind.CASE,
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
                event_record(
                    report=Report.objects.select_for_update().get(
                        pk=delivery.report_id
                    ),
                    actor=Actor.system(connection_id=delivery.connection_id),
                    kind=EventKind.SENT,
                    data={
                        "body": delivery.connection.body.name,
                        "reference": external_id,
                    },
                )
                resolved += 1
    return resolved
