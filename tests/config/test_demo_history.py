"""The demo's year of history: alive on the map and in the inbox, and its
service promises kept and missed, as the statistics and the inbox read them
from the reports' milestones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from casehub.models import Delivery
from config.demo import DEMO_PROMISES, demo_accounts_ensure, demo_promises_ensure
from config.demo_history import (
    RECENT_PER_KOMMUN,
    REPORTS_PER_KOMMUN,
    HistoryResult,
    demo_history_load,
)
from municipalities.models import Municipality, ServicePromise, WorkCalendar
from municipalities.promises import calendar_for
from reports.choices import (
    OPEN_STATUSES,
    PUBLIC_STATUSES,
    EventKind,
    ReportChannel,
    ReportStatus,
)
from reports.models import Report, ReportEvent

KOMMUNER = ("1280", "1281")


@pytest.mark.django_db
def test_the_demo_makes_promises_and_a_calendar_idempotently():
    demo_promises_ensure()
    demo_promises_ensure()
    for code, promises in DEMO_PROMISES.items():
        made = ServicePromise.objects.filter(municipality__code=code)
        assert made.count() == len(promises)
        assert made.filter(category=None).count() == 1
    lund = WorkCalendar.objects.get(municipality__code="1281")
    # A klämdag: the Friday after Ascension Day is no working day in Lund.
    friday = next(
        d for d in calendar_for(lund.municipality_id).extra_off if d.year == 2026
    )
    assert friday.isoformat() == "2026-05-15"
    assert not calendar_for(lund.municipality_id).is_working_day(friday)
    malmo = Municipality.objects.get(code="1280")
    assert calendar_for(malmo.pk).is_working_day(friday)


@pytest.mark.django_db
def test_a_year_of_history_keeps_and_misses_promises_in_every_kommun(
    client, mailoutbox
):
    # What the history needs of the demo: its staff and promises (the whole
    # demo, with its 290 sites: tests/municipalities/test_tenants.py).
    demo_accounts_ensure()
    demo_promises_ensure()
    now = timezone.now()
    made = demo_history_load(now=now)
    assert made.reports == Report.objects.count()
    _the_history_looks_alive(client, now)
    # Followers were told of the history at the time: nothing is e-mailed now.
    assert mailoutbox == []
    for code in KOMMUNER:
        _promises_kept_and_missed(Report.objects.filter(municipality__code=code), now)
    # Made once.
    assert demo_history_load() == HistoryResult(0, 0)


def _promises_kept_and_missed(reports, now):
    # Received over the past year, month by month.
    assert reports.values("received_month").distinct().count() >= 11
    # Every report was received under its kommun's promise.
    assert not reports.filter(promise_response_days=None).exists()
    kept = F("promise_response_days")
    assert reports.filter(response_days__lte=kept).exists()
    assert reports.filter(response_days__gt=kept).exists()
    assert reports.filter(fix_days__lte=F("promise_fix_days")).exists()
    assert reports.filter(fix_days__gt=F("promise_fix_days")).exists()
    # Filed by the contact centre for callers too.
    assert reports.filter(channel=ReportChannel.PHONE).exists()
    assert reports.filter(channel=ReportChannel.VISIT).exists()
    # Reopened: fixed twice, counted fixed from the second time.
    reopened = [
        r
        for r in reports.filter(status=ReportStatus.FIXED)
        if r.events.filter(status=ReportStatus.FIXED).count() >= 2
    ]
    assert reopened
    for report in reopened:
        fixes = list(
            report.events.filter(status=ReportStatus.FIXED)
            .order_by("happened_at")
            .values_list("happened_at", flat=True)
        )
        assert report.fixed_at == report.closed_at == fixes[-1] > fixes[0]
    # Handed over to another category: the handover answers the reporter.
    handed = reports.filter(events__kind=EventKind.HANDOVER).distinct()
    assert handed.exists()
    for report in handed:
        handover = report.events.get(kind=EventKind.HANDOVER)
        assert report.first_response_at == handover.happened_at
    assert reports.filter(status=ReportStatus.DUPLICATE).exists()
    # Still open: some overdue, some not yet due; nothing closed is due.
    still_open = reports.filter(status__in=OPEN_STATUSES)
    assert still_open.filter(due_at__lt=now).exists()
    assert still_open.filter(due_at__gte=now).exists()
    assert not reports.exclude(status__in=OPEN_STATUSES).exclude(due_at=None).exists()
    # The figures are those of the events' own times, not the loading's.
    for report in reports.exclude(first_response_at=None):
        assert report.confirmed_at <= report.first_response_at <= now
        assert report.response_days == calendar_for(report.municipality_id).taken(
            report.confirmed_at, report.first_response_at
        )


def _the_history_looks_alive(client, now):
    """A year of reports in Malmö and Lund, in every status a citizen can see,
    each with the events it would have had, in order, and delivered."""
    reports = Report.objects.filter(municipality__code__in=KOMMUNER)
    total = Report.objects.count()
    assert reports.count() == total == 2 * (REPORTS_PER_KOMMUN + RECENT_PER_KOMMUN)
    assert set(reports.values_list("status", flat=True)) == set(PUBLIC_STATUSES)
    oldest = reports.order_by("created_at").first().created_at
    assert now - oldest > timedelta(days=330)
    for report in reports.prefetch_related("events"):
        events = list(report.events.order_by("pk"))
        kinds = [event.kind for event in events]
        assert kinds[:2] == [EventKind.CONFIRMED, EventKind.SENT], kinds
        moments = [event.happened_at for event in events]
        assert moments == sorted(moments) and moments[-1] <= now
        assert moments[0] == report.created_at == report.confirmed_at
        statuses = [e.status for e in events if e.kind == EventKind.STATUS]
        assert report.status == (statuses[-1] if statuses else ReportStatus.OPEN)
    assert not Delivery.objects.exclude(state="delivered").exists()
    # Worked as a case handler works: some taken on, prioritised, noted internally.
    assert reports.filter(assigned_to__isnull=False).count() > 50
    assert reports.exclude(priority="normal").count() > 20
    internal = ReportEvent.objects.filter(report__in=reports, is_public=False)
    assert internal.filter(kind=EventKind.NOTE).count() > 20
    # It shows: on the public map, and in Malmö's case handler's inbox.
    bbox = "12.9,55.5,13.3,55.8"
    features = client.get(f"/api/v1/reports?bbox={bbox}&zoom=18").json()["features"]
    shown = sum(f["properties"].get("count", 1) for f in features)
    assert shown == total
    client.force_login(get_user_model().objects.get(username="malmo-handlaggare"))
    inbox = client.get("/admin/inbox/").content.decode()
    assert reports.filter(municipality__code="1280").latest("created_at").title in inbox
