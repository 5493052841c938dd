"""The demo's year of history: service promises kept and missed, as the
statistics and the inbox read them from the reports' milestones."""

from __future__ import annotations

import pytest
from django.db.models import F
from django.utils import timezone

from config.demo import DEMO_PROMISES, demo_accounts_ensure, demo_promises_ensure
from config.demo_history import demo_history_load
from municipalities.models import Municipality, ServicePromise, WorkCalendar
from municipalities.promises import calendar_for
from reports.choices import OPEN_STATUSES, EventKind, ReportChannel, ReportStatus
from reports.models import Report, ReportEvent

KOMMUNER = ("1280", "1281")


def _demo_staff_and_promises():
    """What the history needs of the demo: its staff and promises (without the
    290 kommun sites; tests/municipalities/test_tenants.py loads the whole
    demo)."""
    demo_accounts_ensure()
    demo_promises_ensure()


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
def test_a_year_of_history_keeps_and_misses_promises_in_every_kommun():
    _demo_staff_and_promises()
    now = timezone.now()
    made = demo_history_load(now=now)
    assert made.reports == Report.objects.count() > 300
    for code in KOMMUNER:
        reports = Report.objects.filter(municipality__code=code)
        # Received over the past year, month by month.
        assert reports.values("received_month").distinct().count() >= 11
        assert all(r.received_on <= now.date() for r in reports)
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
        # Handed over to another category: the new holder's promise.
        handed = reports.filter(events__kind=EventKind.HANDOVER).distinct()
        assert handed.exists()
        for report in handed:
            handover = report.events.get(kind=EventKind.HANDOVER)
            assert report.first_response_at <= handover.happened_at
        assert reports.filter(status=ReportStatus.DUPLICATE).exists()
        # Still open: some overdue, some not yet due.
        still_open = reports.filter(status__in=OPEN_STATUSES)
        assert still_open.filter(due_at__lt=now).exists()
        assert still_open.filter(due_at__gte=now).exists()
        assert not reports.exclude(status__in=OPEN_STATUSES).exclude(due_at=None)
    # The figures are those of the events' own times, not the loading's.
    assert not ReportEvent.objects.filter(happened_at__gt=now).exists()
    for report in Report.objects.exclude(first_response_at=None)[:50]:
        assert report.confirmed_at <= report.first_response_at <= now
        assert report.received_on < now.date() or report.response_days == 0
