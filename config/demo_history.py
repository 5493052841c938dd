"""Months of history for the demo, so that a fresh run looks alive: reports in
Malmö and Lund over the past half year, in every status, each with the events
it would have had (confirmed, delivered to the kommun's inbox, then worked by the
kommun's staff: assigned, prioritised, noted internally, answered), through the
same services a real report and a real case handler go through. Times are
moved back afterwards, event by event, in the order they happened.

Deterministic (one seed), and made once: a database that holds reports already
gets none."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from casehub.models import Delivery
from casehub.outbox import deliveries_claim, delivery_attempt
from municipalities.choices import StaffRole
from municipalities.locate import municipality_for_point
from municipalities.models import Category, Municipality, Route
from reports.choices import EventKind, ReportPriority, ReportStatus
from reports.models import Report, ReportEvent
from reports.services import Reporter, report_submit
from workspace.services import (
    report_assign,
    report_note_add,
    report_priority_set,
    report_status_change,
)

HISTORY_KOMMUNER = {
    "1280": (55.55, 12.93, 55.63, 13.10),
    "1281": (55.68, 13.15, 55.73, 13.24),
}
REPORTS_PER_KOMMUN = 150
HISTORY_DAYS = 180
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

# Where a report of a given age has got to, for a living spread: older reports are
# mostly done, the last weeks' mostly still being worked.
PATHS = {
    "new": [[]],
    "working": [
        [ReportStatus.INVESTIGATING],
        [ReportStatus.IN_PROGRESS],
        [ReportStatus.INVESTIGATING, ReportStatus.ACTION_SCHEDULED],
    ],
    "done": [
        *[[ReportStatus.IN_PROGRESS, ReportStatus.FIXED]] * 3,
        *[[ReportStatus.INVESTIGATING, ReportStatus.IN_PROGRESS, ReportStatus.FIXED]]
        * 2,
        *[[ReportStatus.FIXED]] * 2,
        [ReportStatus.CLOSED],
        [ReportStatus.NOT_RESPONSIBLE],
        [ReportStatus.INVESTIGATING, ReportStatus.UNABLE_TO_FIX],
        [ReportStatus.NO_FURTHER_ACTION],
        [ReportStatus.DUPLICATE],
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
    ReportStatus.DUPLICATE: "Det här felet är redan anmält och åtgärdas i ett annat ärende.",
}
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


@dataclass(frozen=True)
class HistoryResult:
    reports: int
    events: int


def demo_history_load(*, now=None) -> HistoryResult:
    """Make the history unless the database holds reports already."""
    if Report.objects.exists():
        return HistoryResult(0, 0)
    now = now or timezone.now()
    rng = random.Random(SEED)  # noqa: S311 (demo data, not a secret)
    reporters = _reporters()
    made = []
    for code, bbox in HISTORY_KOMMUNER.items():
        municipality = Municipality.objects.get(code=code)
        categories = list(
            Category.objects.filter(
                pk__in=Route.objects.filter(municipality=municipality).values(
                    "category"
                ),
                is_active=True,
                questions__isnull=True,
            ).order_by("sort_order")
        )
        handler = _handler_for(municipality)
        for _ in range(REPORTS_PER_KOMMUN):
            made.append(
                _one_report(
                    rng, now, municipality, bbox, categories, reporters, handler
                )
            )
    events = ReportEvent.objects.filter(report__in=made).count()
    return HistoryResult(len(made), events)


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
        users.append(user)
    return users


def _handler_for(municipality: Municipality):
    """Who works the kommun's reports in the demo: its case handler where the
    demo has one, else the demo's superuser."""
    users = get_user_model().objects.filter(is_active=True).order_by("pk")
    handler = users.filter(
        memberships__municipality=municipality,
        memberships__role=StaffRole.CASE_HANDLER,
    ).first()
    handler = handler or users.filter(is_superuser=True).first()
    if handler is None:
        raise RuntimeError("The demo's accounts must be made before its history.")
    return handler


def _point(rng: random.Random, municipality: Municipality, bbox) -> tuple[float, float]:
    south, west, north, east = bbox
    for _ in range(50):
        lat, lon = rng.uniform(south, north), rng.uniform(west, east)
        if municipality_for_point(lat=lat, lon=lon).municipality == municipality:
            return round(lat, 6), round(lon, 6)
    raise RuntimeError(f"No point of {municipality.name} found in its box.")


@transaction.atomic
def _one_report(rng, now, municipality, bbox, categories, reporters, handler) -> Report:
    lat, lon = _point(rng, municipality, bbox)
    category = rng.choice(categories)
    title, description = rng.choice(
        PHRASES.get(category.slug)
        or [(category.name, f"{category.name}: behöver ses över på platsen.")]
    )
    user = rng.choice(reporters)
    report = report_submit(
        lat=lat,
        lon=lon,
        category=category,
        title=title,
        description=description,
        reporter=Reporter(
            user=user,
            name=user.first_name,
            email=user.email,
            show_name=rng.random() < 0.3,
        ),
        site_id=municipality.site_id,
        # Hundreds of made-up points: the public geocoder is not asked for them.
        address_lookup=False,
    )
    for claim in deliveries_claim(limit=10, look_first=False):
        delivery_attempt(claim=claim)
    age = rng.uniform(0, HISTORY_DAYS)
    stage = "new" if age < 3 else "working" if age < 30 else "done"
    if stage == "working" and rng.random() < 0.3:
        stage = "new"
    if stage == "done" and rng.random() < 0.15:
        stage = "working"
    path = rng.choice(PATHS[stage])
    if path and rng.random() < 0.5:  # the handler takes it on
        report_assign(actor=handler, report_id=report.pk, assignee_id=handler.pk)
    if rng.random() < 0.2:
        priority = rng.choice(
            [ReportPriority.HIGH, ReportPriority.URGENT, ReportPriority.LOW]
        )
        report_priority_set(actor=handler, report_id=report.pk, priority=priority)
    for status in path:
        if rng.random() < 0.25:
            report_note_add(
                actor=handler, report_id=report.pk, note=rng.choice(INTERNAL_NOTES)
            )
        report_status_change(
            actor=handler, report_id=report.pk, status=status, reply=NOTES[status]
        )
    _move_back(report, now - timedelta(days=age), now, rng)
    return report


def _move_back(report: Report, start, now, rng: random.Random) -> None:
    """Give the report's events the times they would have had: the first at
    ``start``, each later one some hours or days after the one before, all
    before ``now``."""
    events = list(report.events.order_by("pk"))
    span = (now - start).total_seconds()
    moments = [start]
    for event in events[1:]:
        if event.kind == EventKind.SENT:  # the inbox takes it at once
            gap = rng.uniform(5, 90)
        else:
            gap = rng.uniform(0.02, 0.35) * span / max(1, len(events) - 1)
        moments.append(min(moments[-1] + timedelta(seconds=gap), now))
    for event, moment in zip(events, moments, strict=True):
        ReportEvent.objects.filter(pk=event.pk).update(
            created_at=moment, happened_at=moment
        )
    last = moments[-1]
    # Followers were told of all of it at the time: nothing is e-mailed now.
    Report.objects.filter(pk=report.pk).update(
        notified_event_id=events[-1].pk,
        notified_at=last,
        created_at=start,
        confirmed_at=start,
        updated_at=last,
        status_changed_at=last,
        status_as_of=last,
    )
    sent = [m for e, m in zip(events, moments, strict=True) if e.kind == EventKind.SENT]
    Delivery.objects.filter(report=report).update(
        queued_at=start, next_attempt_at=start, delivered_at=sent[0] if sent else None
    )
