"""A year of history for the demo, so that a fresh run looks alive and its
service promises have something to say: reports in Malmö and Lund over the past
twelve months, in every status, each with the events it would have had
(confirmed, delivered to the kommun's inbox, then worked by the kommun's staff:
assigned, prioritised, noted internally, answered, fixed; a few reopened,
handed over to another category or marked as duplicates; some filed by the
contact centre for someone who phoned or came by), through the same services a
real report and a real case handler go through.

Every step is planned first, with the moment it happened: answers and fixes
come some working days after receipt (``municipalities.workdays``, the kommun's
own calendar), within the kommun's promise or not. The steps of all reports are
then taken in the order they happened, and each event is given its step's
moment afterwards (``happened_at`` and ``created_at``; the report's
``confirmed_at`` is its receipt). What would have happened after now has not
happened yet: the newest reports are still open, some overdue. Last, the
reports' milestones are computed again from their moved events
(``reports.milestones.milestones_rebuild``).

Deterministic (one seed), and made once: a database that holds reports already
gets none."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from casehub.models import Delivery
from casehub.outbox import deliveries_claim, delivery_attempt
from citizens.models import Citizen
from municipalities.choices import StaffRole
from municipalities.locate import municipality_for_point
from municipalities.models import Category, Municipality, Route
from municipalities.promises import Promise, calendar_for, promise_for
from municipalities.workdays import WorkingDays, local_date, stockholm
from reports.choices import EventKind, ReportChannel, ReportPriority, ReportStatus
from reports.milestones import milestones_rebuild
from reports.models import Report, ReportEvent, Subscription
from reports.services import Reporter, report_submit
from workspace.services import (
    report_assign,
    report_mark_duplicate,
    report_note_add,
    report_priority_set,
    report_reassign,
    report_status_change,
)

HISTORY_KOMMUNER = {
    "1280": (55.55, 12.93, 55.63, 13.10),
    "1281": (55.68, 13.15, 55.73, 13.24),
}
REPORTS_PER_KOMMUN = 140
# And a few more in the last weeks, still being worked: some due soon.
RECENT_PER_KOMMUN = 12
RECENT_DAYS = 20
HISTORY_DAYS = 365
SEED = 2026

# What people write, per category (title, description); others get a generic one.
PHRASES = {
    "gatubelysning": [
        (
            "Släckt gatlykta",
            "Lyktan har varit släckt i flera kvällar, det är mörkt på gångvägen.",
        ),
        ("Lampan blinkar", "Gatlampan blinkar hela natten."),
    ],
    "klotter": [
        ("Klotter på elskåp", "Elskåpet vid busshållplatsen är nedklottrat."),
        ("Klotter på skolans vägg", "Stora taggar på gaveln mot parken."),
    ],
    "nedskrapning": [
        ("Nedskräpat vid bänkarna", "Mycket skräp och glas runt bänkarna."),
        ("Soptunnan är full", "Papperskorgen är överfull och skräpet blåser iväg."),
    ],
    "vagar-ovriga": [
        ("Potthål i körbanan", "Djupt hål i vägen, cyklister väjer ut i körfältet."),
        ("Sprucken asfalt", "Asfalten har spruckit upp längs kantstenen."),
    ],
    "gang-och-cykelbana": [
        ("Hål i cykelbanan", "Ett hål mitt i cykelbanan, lätt att köra ner i."),
        ("Grus på cykelbanan", "Mycket grus kvar efter vintern, halt i kurvan."),
    ],
    "trad-och-buskage": [
        (
            "Grenar skymmer sikten",
            "Buskarna vid korsningen skymmer sikten för bilister.",
        ),
        ("Nedfallen gren", "En stor gren har fallit ner över gångvägen."),
    ],
    "igensatt-brunn": [
        (
            "Igensatt dagvattenbrunn",
            "Vattnet blir stående när det regnar, brunnen är full av löv.",
        ),
    ],
    "lekplatser": [
        ("Trasig gunga", "Kedjan på gungan har gått av."),
    ],
    "vagmarken-och-skyltar": [
        ("Nedkörd skylt", "Vägmärket ligger på marken efter en påkörning."),
    ],
    "parkering": [
        ("Felparkerade bilar", "Bilar står på gångbanan varje dag."),
    ],
    "avfall-och-atervinning": [
        (
            "Full återvinningsstation",
            "Containrarna är fulla och kartonger ligger på marken.",
        ),
    ],
    "cykelstall": [
        (
            "Trasigt cykelställ",
            "Cykelstället är böjt och går inte att låsa fast cykeln i.",
        ),
    ],
    "hallplats": [
        (
            "Krossat glas i busskuren",
            "Glaset i busskuren är krossat, skärvor på marken.",
        ),
    ],
    "offentlig-toalett": [
        ("Toaletten är låst", "Den offentliga toaletten har varit låst hela veckan."),
    ],
    "park": [
        ("Trasig parkbänk", "En planka i bänken är trasig."),
    ],
    "trafiksignaler": [
        ("Trafikljuset fungerar inte", "Gående får aldrig grönt vid övergångsstället."),
    ],
    "vatten-och-avlopp": [
        ("Vattenläcka i gatan", "Vatten tränger upp ur gatan vid brunnslocket."),
    ],
    "vintervaghallning": [
        ("Ej plogat", "Gångvägen är inte plogad, det är svårt att ta sig fram."),
        ("Halt på trottoaren", "Isigt och ingen sandning vid skolan."),
    ],
    "vagar-riksvagartrafikverket": [
        ("Viltstängslet är trasigt", "Ett hål i stängslet längs vägen."),
    ],
    "ovrigt": [
        ("Övergiven cykel", "En cykel har stått fastlåst och trasig i månader."),
    ],
}
NOTES = {
    ReportStatus.INVESTIGATING: "Tack för din anmälan, vi undersöker saken.",
    ReportStatus.IN_PROGRESS: "Arbetet har påbörjats.",
    ReportStatus.ACTION_SCHEDULED: "Åtgärden är inplanerad inom två veckor.",
    ReportStatus.FIXED: "Felet är åtgärdat. Tack för hjälpen!",
    ReportStatus.CLOSED: "Ärendet är avslutat.",
    ReportStatus.NOT_RESPONSIBLE: "Platsen sköts inte av kommunen; vi har meddelat fastighetsägaren.",
    ReportStatus.UNABLE_TO_FIX: "Vi kan tyvärr inte åtgärda detta just nu.",
    ReportStatus.NO_FURTHER_ACTION: "Vi har tittat på platsen och gör ingen åtgärd.",
}
REOPEN_NOTE = "Anmälaren hör av sig: felet är kvar. Vi tittar på det igen."
INTERNAL_NOTES = (
    "Ringde anmälaren, platsen stämmer.",
    "Beställt hos entreprenören.",
    "Väntar på material, leverans nästa vecka.",
    "Kolla med parkavdelningen om ansvaret.",
)
FIRST_NAMES = (
    "Anna",
    "Erik",
    "Maria",
    "Lars",
    "Fatima",
    "Johan",
    "Elin",
    "Ali",
    "Sara",
    "Nils",
)
CALLERS = ("Birgitta", "Kjell", "Yasmin", "Göran", "Leila", "Bengt")
# Handovers: a report filed under one category that belongs under another.
HANDOVERS = {"ovrigt": "park", "park": "trad-och-buskage", "klotter": "gatubelysning"}

# How a report's life goes, by weight: ``_plan`` turns each into steps.
FATES = (
    ("fixed", 52),
    ("fixed_direct", 10),
    ("closed_other", 14),
    ("stalled", 4),
    ("unanswered", 2),
)
# Every this many reports of a kommun, one of these (older than a few weeks).
SPECIAL = {7: "reopened", 23: "handover", 31: "duplicate", 41: "stalled"}
SPECIAL_EVERY = 45


@dataclass(frozen=True)
class HistoryResult:
    reports: int
    events: int


@dataclass
class Step:
    moment: dt.datetime
    plan: ReportPlan
    act: Callable[[ReportPlan], object]


@dataclass
class ReportPlan:
    municipality: Municipality
    category: Category
    received: dt.datetime
    lat: float
    lon: float
    channel: str
    fate: str
    steps: list[Step] = field(default_factory=list)
    report_id: int | None = None
    response_at: dt.datetime | None = None


@dataclass
class Kommun:
    """What planning a kommun's reports needs."""

    municipality: Municipality
    bbox: tuple
    categories: list[Category]
    calendar: WorkingDays
    handler: object
    filer: object | None
    promises: dict[int, Promise | None] = field(default_factory=dict)

    def promise(self, category: Category) -> Promise:
        if category.pk not in self.promises:
            self.promises[category.pk] = promise_for(
                municipality_id=self.municipality.pk, category_id=category.pk
            )
        # Without a promise, the demo's staff keep to the usual two weeks.
        return self.promises[category.pk] or Promise(response_days=3, fix_days=10)


def demo_history_load(*, now=None) -> HistoryResult:
    """Make the history unless the database holds reports already."""
    if Report.objects.exists():
        return HistoryResult(0, 0)
    now = now or timezone.now()
    rng = random.Random(SEED)  # noqa: S311 (demo data, not a secret)
    reporters = _reporters()
    plans: list[ReportPlan] = []
    for code, bbox in HISTORY_KOMMUNER.items():
        plans += _kommun_plans(rng, now, _kommun(code, bbox), reporters)
    steps = sorted(
        (step for plan in plans for step in plan.steps if step.moment <= now),
        key=lambda step: step.moment,
    )
    moments: dict[int, dt.datetime] = {}
    seen = ReportEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    for step in steps:
        with transaction.atomic():
            step.act(step.plan)
        for pk in ReportEvent.objects.filter(pk__gt=seen).values_list("pk", flat=True):
            moments[pk] = step.moment
            seen = max(seen, pk)
    made = [plan for plan in plans if plan.report_id is not None]
    _move_back(made, moments)
    # The audit log is append-only: it says when the demo's staff actions were
    # written (at loading), and is not moved back.
    milestones_rebuild([plan.report_id for plan in made])
    return HistoryResult(len(made), len(moments))


def _kommun(code: str, bbox) -> Kommun:
    municipality = Municipality.objects.get(code=code)
    categories = list(
        Category.objects.filter(
            pk__in=Route.objects.filter(municipality=municipality).values("category"),
            is_active=True,
            questions__isnull=True,
        ).order_by("sort_order")
    )
    return Kommun(
        municipality=municipality,
        bbox=bbox,
        categories=categories,
        calendar=calendar_for(municipality.pk),
        handler=_staff_for(municipality, StaffRole.CASE_HANDLER, required=True),
        filer=_staff_for(municipality, StaffRole.CONTACT_CENTRE, required=False),
    )


def _reporters() -> list:
    """A few citizens' accounts without passwords (their reports need no e-mailed
    confirmation, as a signed-in reporter's)."""
    users = []
    for n, first in enumerate(FIRST_NAMES, start=1):
        user, _ = get_user_model().objects.get_or_create(
            username=f"demo-invanare-{n}",
            defaults={"email": f"{first.lower()}.{n}@example.org", "first_name": first},
        )
        if user.has_usable_password():
            user.set_unusable_password()
            user.save(update_fields=["password"])
        Citizen.objects.get_or_create(user=user)
        users.append(user)
    return users


def _staff_for(municipality: Municipality, role: StaffRole, *, required: bool):
    """Who acts in the kommun in the demo: its member of staff in ``role`` where
    the demo has one, else the demo's superuser (a case handler is required)."""
    users = get_user_model().objects.filter(is_active=True).order_by("pk")
    user = users.filter(
        memberships__municipality=municipality, memberships__role=role
    ).first()
    if user is None and required:
        user = users.filter(is_superuser=True).first()
        if user is None:
            raise RuntimeError("The demo's accounts must be made before its history.")
    return user


def _point(rng: random.Random, municipality: Municipality, bbox) -> tuple[float, float]:
    south, west, north, east = bbox
    for _ in range(50):
        lat, lon = rng.uniform(south, north), rng.uniform(west, east)
        if municipality_for_point(lat=lat, lon=lon).municipality == municipality:
            return round(lat, 6), round(lon, 6)
    raise RuntimeError(f"No point of {municipality.name} found in its box.")


# --- planning ---------------------------------------------------------------------


def _at(
    day: dt.date, rng: random.Random, first: int = 8, last: int = 16
) -> dt.datetime:
    """A moment on a Stockholm day between ``first`` and ``last`` o'clock."""
    minutes = rng.randint(first * 60, last * 60)
    return dt.datetime.combine(
        day, dt.time(minutes // 60, minutes % 60), tzinfo=stockholm()
    )


def _workday_at(
    kommun: Kommun, received: dt.datetime, days: int, rng, after: dt.datetime
) -> dt.datetime:
    """A moment in office hours ``days`` working days after receipt (the same
    day when 0 and there is time left), and after ``after``."""
    day = local_date(received)
    if days > 0 or not kommun.calendar.is_working_day(day):
        day = kommun.calendar.add(day, max(days, 1))
    moment = _at(day, rng)
    if moment <= after:
        moment = after + dt.timedelta(minutes=rng.randint(20, 180))
    return moment


def _delay(rng: random.Random, promised: int, *, at_least: int = 0) -> int:
    """Working days something took against a promise of ``promised``: mostly
    kept, sometimes missed by a little, now and then by much."""
    roll = rng.random()
    if roll < 0.8:
        taken = rng.randint(0, promised)
    elif roll < 0.94:
        taken = promised + rng.randint(1, 3)
    else:
        taken = promised + rng.randint(4, 12)
    return max(taken, at_least)


def _kommun_plans(rng, now, kommun: Kommun, reporters) -> list[ReportPlan]:
    plans = []
    for n in range(REPORTS_PER_KOMMUN + RECENT_PER_KOMMUN):
        fate = SPECIAL.get(n % SPECIAL_EVERY) if n < REPORTS_PER_KOMMUN else None
        if fate:
            age = rng.uniform(40, HISTORY_DAYS)
        elif n < REPORTS_PER_KOMMUN:
            age = rng.uniform(0, HISTORY_DAYS)
        else:
            age = rng.uniform(0, RECENT_DAYS)
        if fate is None:
            fate = rng.choices([name for name, _w in FATES], [w for _n, w in FATES])[0]
        plans.append(_plan(rng, now, kommun, reporters, plans, fate, age))
    return plans


def _plan(rng, now, kommun: Kommun, reporters, earlier, fate: str, age: float):
    received = now - dt.timedelta(days=age)
    channel = ReportChannel.WEB
    if kommun.filer is not None and rng.random() < 0.25:
        channel = rng.choice([ReportChannel.PHONE] * 3 + [ReportChannel.VISIT])
        # The contact centre is open on working days.
        day = local_date(received)
        while not kommun.calendar.is_working_day(day):
            day -= dt.timedelta(days=1)
        received = min(_at(day, rng, 8, 15), now - dt.timedelta(minutes=5))
    else:
        received = min(
            _at(local_date(received), rng, 6, 22), now - dt.timedelta(minutes=5)
        )
    original = None
    if fate == "duplicate":
        original = _original_for(earlier, received)
        if original is None:
            fate = "fixed"
    category = original.category if original else rng.choice(kommun.categories)
    if fate == "handover" and category.slug not in HANDOVERS:
        category = next(c for c in kommun.categories if c.slug in HANDOVERS)
    if original:
        lat, lon = _near(rng, kommun, original)
    else:
        lat, lon = _point(rng, kommun.municipality, kommun.bbox)
    plan = ReportPlan(
        municipality=kommun.municipality,
        category=category,
        received=received,
        lat=lat,
        lon=lon,
        channel=channel,
        fate=fate,
    )
    submit = _submit_step(rng, kommun, plan, reporters)
    plan.steps.append(Step(received, plan, submit))
    promise = kommun.promise(category)
    handler = kommun.handler
    last = received

    def step(moment: dt.datetime, act, *, aside: bool = False) -> None:
        """A step at ``moment`` (never before receipt); ``aside``: one the
        next steps need not follow (an assignment, a priority)."""
        nonlocal last
        moment = max(moment, received + dt.timedelta(minutes=1))
        plan.steps.append(Step(moment, plan, act))
        if not aside:
            last = moment

    if fate == "unanswered":
        return plan
    response_days = _delay(rng, promise.response_days)
    response = _workday_at(kommun, received, response_days, rng, last)
    if rng.random() < 0.5:
        step(
            response - dt.timedelta(minutes=rng.randint(5, 60)),
            _assign(handler),
            aside=True,
        )
    if rng.random() < 0.2:
        priority = rng.choice(
            [ReportPriority.HIGH, ReportPriority.URGENT, ReportPriority.LOW]
        )
        step(
            response - dt.timedelta(minutes=rng.randint(1, 4)),
            _priority(handler, priority),
            aside=True,
        )
    plan.response_at = response
    if fate == "duplicate":
        answered = original.response_at or original.received
        moment = max(response, answered + dt.timedelta(hours=1))
        step(moment, _duplicate(handler, original))
        return plan
    if fate == "handover":
        step(response, _reassign(handler, HANDOVERS[category.slug]))
        promise = kommun.promise(
            next(c for c in kommun.categories if c.slug == HANDOVERS[category.slug])
        )
        fate = "fixed"
    elif fate == "closed_other":
        status = rng.choice(
            [
                ReportStatus.NOT_RESPONSIBLE,
                ReportStatus.NO_FURTHER_ACTION,
                ReportStatus.UNABLE_TO_FIX,
                ReportStatus.CLOSED,
            ]
        )
        step(response, _status(handler, status))
        return plan
    elif fate == "fixed_direct":
        fix_days = _delay(rng, promise.fix_days, at_least=response_days)
        step(
            _workday_at(kommun, received, fix_days, rng, last),
            _status(handler, ReportStatus.FIXED),
        )
        return plan
    else:
        step(
            response,
            _status(
                handler,
                rng.choice(
                    [ReportStatus.INVESTIGATING] * 2
                    + [ReportStatus.IN_PROGRESS, ReportStatus.ACTION_SCHEDULED]
                ),
            ),
        )
    fix_days = _delay(rng, promise.fix_days, at_least=response_days + 1)
    fix = _workday_at(kommun, received, fix_days, rng, last)
    if rng.random() < 0.3:
        between = last + (fix - last) * rng.uniform(0.2, 0.8)
        step(between, _note(handler, rng.choice(INTERNAL_NOTES)))
    if fate == "stalled":
        if rng.random() < 0.5:
            step(last + (fix - last) / 2, _status(handler, ReportStatus.IN_PROGRESS))
        return plan
    if rng.random() < 0.4:
        step(
            last + (fix - last) * rng.uniform(0.3, 0.9),
            _status(handler, ReportStatus.IN_PROGRESS),
        )
    step(fix, _status(handler, ReportStatus.FIXED))
    if fate == "reopened":
        again = _workday_at(kommun, received, fix_days + rng.randint(2, 5), rng, last)
        step(again, _status(handler, ReportStatus.IN_PROGRESS, REOPEN_NOTE))
        done = _workday_at(kommun, received, fix_days + rng.randint(6, 12), rng, last)
        step(done, _status(handler, ReportStatus.FIXED))
    return plan


def _original_for(earlier: list[ReportPlan], received: dt.datetime):
    """An earlier report that a new one may duplicate: received some days
    before it and answered by then."""
    for plan in reversed(earlier):
        if (
            plan.fate in ("fixed", "fixed_direct")
            and plan.response_at is not None
            and plan.received < received - dt.timedelta(days=1)
            and plan.category.slug in PHRASES
        ):
            return plan
    return None


def _near(rng, kommun: Kommun, original: ReportPlan) -> tuple[float, float]:
    """A point some tens of metres from the original's, in the same kommun."""
    for _ in range(10):
        lat = round(original.lat + rng.uniform(-0.0003, 0.0003), 6)
        lon = round(original.lon + rng.uniform(-0.0005, 0.0005), 6)
        if municipality_for_point(lat=lat, lon=lon).municipality == kommun.municipality:
            return lat, lon
    return original.lat, original.lon


# --- steps ------------------------------------------------------------------------


def _deliver_all() -> None:
    """Hand new reports to the kommun's inbox at once, as the dispatcher does."""
    for claim in deliveries_claim(limit=10, look_first=False):
        delivery_attempt(claim=claim)


def _submit_step(rng, kommun: Kommun, plan: ReportPlan, reporters):
    title, description = rng.choice(
        PHRASES.get(plan.category.slug)
        or [(plan.category.name, f"{plan.category.name}: behöver ses över.")]
    )
    if plan.channel == ReportChannel.WEB:
        user = rng.choice(reporters)
        reporter = Reporter(
            user=user,
            name=user.first_name,
            email=user.email,
            show_name=rng.random() < 0.3,
        )
        filed_by = None
    else:
        # A caller leaves a phone number only: no e-mail is sent to anyone.
        reporter = Reporter(
            name=rng.choice(CALLERS),
            email="",
            phone=f"070-{rng.randint(1000000, 9999999)}",
        )
        filed_by = kommun.filer

    def act(plan: ReportPlan) -> None:
        report = report_submit(
            lat=plan.lat,
            lon=plan.lon,
            category=plan.category,
            title=title,
            description=description,
            reporter=reporter,
            site_id=plan.municipality.site_id,
            channel=plan.channel,
            filed_by=filed_by,
            # Hundreds of made-up points: the public geocoder is not asked for them.
            address_lookup=False,
        )
        plan.report_id = report.pk
        _deliver_all()

    return act


def _status(handler, status: ReportStatus, reply: str = ""):
    def act(plan: ReportPlan) -> None:
        report_status_change(
            actor=handler,
            report_id=plan.report_id,
            status=status,
            reply=reply or NOTES[status],
        )

    return act


def _assign(handler):
    def act(plan: ReportPlan) -> None:
        report_assign(actor=handler, report_id=plan.report_id, assignee_id=handler.pk)

    return act


def _priority(handler, priority: ReportPriority):
    def act(plan: ReportPlan) -> None:
        report_priority_set(actor=handler, report_id=plan.report_id, priority=priority)

    return act


def _note(handler, note: str):
    def act(plan: ReportPlan) -> None:
        report_note_add(actor=handler, report_id=plan.report_id, note=note)

    return act


def _reassign(handler, slug: str):
    def act(plan: ReportPlan) -> None:
        category = Category.objects.get(slug=slug)
        report_reassign(
            actor=handler, report_id=plan.report_id, category_id=category.pk
        )
        plan.category = category
        _deliver_all()

    return act


def _duplicate(handler, original: ReportPlan):
    def act(plan: ReportPlan) -> None:
        report_mark_duplicate(
            actor=handler, report_id=plan.report_id, original_id=original.report_id
        )

    return act


# --- back-dating -----------------------------------------------------------------


def _move_back(plans: list[ReportPlan], moments: dict[int, dt.datetime]) -> None:
    """Give every event its step's moment, and each report, delivery and
    subscription the times that follow from its events."""
    events = list(ReportEvent.objects.filter(pk__in=moments).order_by("pk"))
    for event in events:
        event.created_at = event.happened_at = moments[event.pk]
    ReportEvent.objects.bulk_update(
        events, ["created_at", "happened_at"], batch_size=500
    )
    by_report: dict[int, list[ReportEvent]] = {}
    for event in events:
        by_report.setdefault(event.report_id, []).append(event)
    for plan in plans:
        timeline = by_report[plan.report_id]
        last = timeline[-1]
        changed = [e for e in timeline if e.kind == EventKind.STATUS] or timeline[:1]
        # Followers were told of all of it at the time: nothing is e-mailed now.
        Report.objects.filter(pk=plan.report_id).update(
            notified_event_id=last.pk,
            notified_at=last.happened_at,
            created_at=plan.received,
            confirmed_at=plan.received,
            updated_at=last.happened_at,
            status_changed_at=changed[-1].happened_at,
            status_as_of=changed[-1].happened_at,
        )
        Subscription.objects.filter(report_id=plan.report_id).update(
            created_at=plan.received, confirmed_at=plan.received
        )
        sent = [e.happened_at for e in timeline if e.kind == EventKind.SENT]
        deliveries = Delivery.objects.filter(report_id=plan.report_id).order_by("pk")
        for delivery, moment in zip(deliveries, sent, strict=False):
            Delivery.objects.filter(pk=delivery.pk).update(
                queued_at=moment, next_attempt_at=moment, delivered_at=moment
            )
