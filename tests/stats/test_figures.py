"""The statistics' figures (stats.figures) for a hand-built set of reports,
made and worked through the real services: submitted, answered and fixed by
staff and by a case system (late and out of order too), handed over to
another kommun and marked duplicate. The milestones are the ones
reports.milestones keeps; these tests check how the figures count them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from casehub.services import Signal, signal_accept
from municipalities.choices import ConnectionKind, StaffRole
from municipalities.models import Municipality, ServicePromise
from municipalities.workdays import local_date
from reports.choices import ReportChannel, ReportStatus
from reports.milestones import milestones_refresh
from reports.models import Report
from reports.services import Reporter, report_submit, report_transition
from stats.figures import figures_compute, percentile
from tests.support.casehub import MALMO, confirmed_report, connect, delivery_of
from tests.support.people import case_handler, staff_user
from workspace.services import report_mark_duplicate, report_reassign

pytestmark = pytest.mark.django_db

MALMO_CODE, LUND_CODE = "1280", "1281"


def test_percentiles_are_the_nearest_rank_of_the_histogram():
    # 1, 1, 2, 3, 3, 3, 4, 8, 9, 20: the 5th of 10 is 3, the 9th is 9.
    histogram = Counter({1: 2, 2: 1, 3: 3, 4: 1, 8: 1, 9: 1, 20: 1})
    assert percentile(histogram, 0.5) == 3
    assert percentile(histogram, 0.9) == 9
    assert percentile(Counter({5: 1}), 0.9) == 5
    assert percentile(Counter({0: 1, 7: 1}), 0.5) == 0
    assert percentile(Counter(), 0.5) is None


def received_days_ago(report: Report, days: int) -> Report:
    """Set the report's receipt ``days`` back (its events stay as they are,
    so whatever staff do now happens that long after receipt)."""
    Report.objects.filter(pk=report.pk).update(
        confirmed_at=report.confirmed_at - timedelta(days=days)
    )
    milestones_refresh(report_id=report.pk)
    report.refresh_from_db()
    return report


def signal(connection, report, n, status, at, note=""):
    return signal_accept(
        signal=Signal(
            connection_id=connection.pk,
            message_id=f"stats-{n}",
            report_id=report.pk,
            status=ReportStatus(status) if status else None,
            note=note,
            happened_at=at,
        )
    )


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    """Malmö promises a response in 2 working days and a fix in 10; Lund
    promises nothing. Reports, each named for what happens to it."""
    malmo = Municipality.objects.get(code=MALMO_CODE)
    ServicePromise.objects.create(municipality=malmo, response_days=2, fix_days=10)
    connection = connect(ConnectionKind.WEBHOOK, endpoint="http://127.0.0.1:9/")
    handler = case_handler(MALMO_CODE)
    agent = staff_user("agent", MALMO_CODE, StaffRole.CONTACT_CENTRE)
    reports = {}

    def submit(name, **kwargs):
        reports[name] = confirmed_report(title=name, **kwargs)
        delivery = delivery_of(reports[name])
        delivery.state, delivery.external_id = "delivered", f"CASE-{name}"
        delivery.save()
        return reports[name]

    # Answered and fixed by the case system within minutes: both promises kept.
    quick = submit("quick")
    soon = quick.confirmed_at + timedelta(minutes=1)
    signal(connection, quick, 1, "in_progress", soon)
    signal(connection, quick, 2, "fixed", soon + timedelta(minutes=1))
    # Received 30 days ago, answered by staff only now: the response promise
    # missed; still open and its fix overdue: missed too.
    late = received_days_ago(submit("late"), 30)
    report_transition(
        actor=handler, report_id=late.pk, status=ReportStatus.INVESTIGATING
    )
    # Received 30 days ago and never answered: both missed.
    received_days_ago(submit("silent"), 30)
    # Received now, not answered: pending, not counted.
    submit("pending")
    # Received 30 days ago, closed now as not the kommun's: response missed,
    # left out of the fix promise.
    refused = received_days_ago(submit("refused"), 30)
    report_transition(
        actor=handler, report_id=refused.pk, status=ReportStatus.NOT_RESPONSIBLE
    )
    # The case system's words arrive out of order: "fixed" first, then the
    # older "in progress"; the report is fixed, answered when in progress.
    shuffled = submit("shuffled")
    at = shuffled.confirmed_at
    signal(connection, shuffled, 3, "fixed", at + timedelta(minutes=5))
    signal(connection, shuffled, 4, "in_progress", at + timedelta(minutes=2))
    # A duplicate of "quick": counted as received and duplicate, nowhere else.
    duplicate = submit("duplicate")
    report_mark_duplicate(actor=handler, report_id=duplicate.pk, original_id=quick.pk)
    # Handed over to Lund: Lund's now, not Malmö's.
    moved = submit("moved")
    report_reassign(
        actor=handler,
        report_id=moved.pk,
        municipality_id=Municipality.objects.get(code=LUND_CODE).pk,
    )
    # Filed by the contact centre for a caller: the phone channel.
    reports["phoned"] = report_submit(
        lat=MALMO[0],
        lon=MALMO[1],
        category=quick.category,
        title="phoned",
        description="Lyktan är släckt.",
        reporter=Reporter(name="Bo Ek", email="bo@example.org"),
        channel=ReportChannel.PHONE,
        filed_by=agent,
    )
    # Unconfirmed: counted nowhere.
    report_submit(
        lat=MALMO[0],
        lon=MALMO[1],
        category=quick.category,
        title="unconfirmed",
        description="Lyktan är släckt.",
        reporter=Reporter(name="Cecilia", email="c@example.org"),
    )
    for report in reports.values():
        report.refresh_from_db()
    return reports


def period():
    today = local_date(timezone.now())
    return today - timedelta(days=60), today


def malmo_figures():
    start, end = period()
    return figures_compute(
        Report.objects.filter(municipality__code=MALMO_CODE), start=start, end=end
    )


def test_counts_by_status_now_and_for_the_kommun_holding_the_report(world):
    total = malmo_figures().total
    # quick, late, silent, pending, refused, shuffled, duplicate, phoned.
    assert total.received == 8
    assert total.open == 4  # late, silent, pending, phoned
    assert total.fixed == 2  # quick, shuffled
    assert total.closed == 1  # refused
    assert total.duplicates == 1
    start, end = period()
    lund = figures_compute(
        Report.objects.filter(municipality__code=LUND_CODE), start=start, end=end
    )
    assert lund.total.received == 1
    assert world["moved"].municipality.code == LUND_CODE
    # Lund promises nothing: no promise counted for the moved report.
    assert (lund.total.response_kept, lund.total.response_missed) == (0, 0)


def test_promises_kept_missed_and_pending(world):
    total = malmo_figures().total
    # Response: kept by quick and shuffled; missed by late (late), silent
    # (never, now past due) and refused (late); pending and phoned (filing is
    # no answer) are not due yet.
    assert (total.response_kept, total.response_missed) == (2, 3)
    assert total.response_kept_share == 0.4
    # Fix: kept by quick and shuffled; missed by late and silent (open past
    # due); refused is left out (closed, not fixed), phoned and pending not due.
    assert (total.fix_kept, total.fix_missed) == (2, 2)


def test_distributions_leave_out_duplicates_and_count_the_fixed(world):
    figures = malmo_figures()
    answered = sorted(
        world[name].response_days for name in ("quick", "late", "refused", "shuffled")
    )
    assert answered[:2] == [0, 0] and min(answered[2:]) > 2
    assert world["phoned"].response_days is None
    # Four answered: the 2nd is the median, the 4th the 90th percentile.
    assert figures.total.response_median == 0
    assert figures.total.response_p90 == answered[3]
    assert figures.total.fix_median == 0
    assert figures.total.fix_p90 == 0
    assert sum(figures.total.response_histogram.values()) == 4


def test_breakdowns_add_up_to_the_total(world):
    figures = malmo_figures()
    for dimension in ("category", "body", "channel", "received_month"):
        rows = figures.rows(dimension)
        assert sum(r.received for r in rows) == figures.total.received, dimension
        assert sum(r.fix_kept for r in rows) == figures.total.fix_kept, dimension
    channels = {key: row.received for key, row in figures.by["channel"].items()}
    assert channels == {ReportChannel.WEB: 7, ReportChannel.PHONE: 1}
    # Every month of the period has its row, empty or not.
    start, end = period()
    months = list(figures.by["received_month"])
    assert months[0] == start.replace(day=1) and months[-1] == end.replace(day=1)


def test_the_period_is_on_the_stockholm_date_received(world):
    late = world["late"]
    day = late.received_on
    only = figures_compute(
        Report.objects.filter(municipality__code=MALMO_CODE), start=day, end=day
    )
    names = {"late", "silent", "refused"}  # received the same day
    assert only.total.received == len(names)
    assert (
        figures_compute(
            Report.objects.all(),
            start=day - timedelta(days=1),
            end=day - timedelta(days=1),
        ).total.received
        == 0
    )


def test_nationally_by_kommun(world):
    start, end = period()
    figures = figures_compute(Report.objects.all(), start=start, end=end, national=True)
    by_kommun = {
        Municipality.objects.get(pk=key).code: row.received
        for key, row in figures.by["municipality"].items()
    }
    assert by_kommun == {MALMO_CODE: 8, LUND_CODE: 1}
    assert figures.total.received == 9


def test_a_missed_promise_is_missed_only_once_due(world):
    start, end = period()
    reports = Report.objects.filter(municipality__code=MALMO_CODE)
    due = max(world[name].response_due_at for name in ("pending", "phoned"))
    before = figures_compute(reports, start=start, end=end).total
    after = figures_compute(
        reports, start=start, end=end, now=due + timedelta(seconds=1)
    ).total
    assert after.response_missed == before.response_missed + 2
    assert isinstance(due, dt.datetime)
