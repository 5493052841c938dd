"""A report's first response, fix, closing and service promise, computed from
its events (reports.milestones) as a careful analyst counts them: late and
out-of-order signals, reopening, a handover between kommuner, a duplicate,
and a report received the day before julafton with a 3-working-day promise."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from casehub.services import Signal, signal_accept
from municipalities.choices import ConnectionKind, StaffRole
from municipalities.models import Municipality, ServicePromise
from municipalities.promises import Promise
from municipalities.workdays import WorkingDays
from reports.choices import ActorKind, EventKind, ReportStatus, TokenPurpose
from reports.milestones import milestones_compute, milestones_rebuild
from reports.models import Report
from reports.services import report_confirm
from reports.tokens import token_issue
from tests.support.casehub import (
    confirmed_report,
    connect,
    delivery_of,
    unconfirmed_report,
)
from tests.support.people import staff_user
from workspace.services import (
    report_mark_duplicate,
    report_note_add,
    report_reassign,
    report_status_change,
)

pytestmark = pytest.mark.django_db

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
MALMO, LUND = "1280", "1281"


def at(*args):
    return dt.datetime(*args, tzinfo=STOCKHOLM)


@pytest.fixture
def promises():
    malmo = Municipality.objects.get(code=MALMO)
    lund = Municipality.objects.get(code=LUND)
    ServicePromise.objects.create(municipality=malmo, response_days=3, fix_days=10)
    ServicePromise.objects.create(municipality=lund, response_days=1, fix_days=5)
    return malmo, lund


@pytest.fixture
def case_system(promises):
    """Malmö's street lamps go to a webhook case system; its cases are marked
    delivered by hand (the case system itself is not needed here)."""
    return connect(ConnectionKind.WEBHOOK, endpoint="http://127.0.0.1:9/")


@pytest.fixture
def handler():
    return staff_user("gata", MALMO, StaffRole.CASE_HANDLER)


def delivered_report(**kwargs):
    report = confirmed_report(**kwargs)
    delivery = delivery_of(report)
    delivery.state, delivery.external_id = "delivered", f"CASE-{report.pk}"
    delivery.save()
    return report


def received_at(report, moment):
    """The report was received at ``moment``: the services stamp "now", so a
    report of the past is arranged by moving its receipt and first event back,
    then computed again like any report written before milestones were kept."""
    Report.objects.filter(pk=report.pk).update(confirmed_at=moment)
    report.events.filter(kind=EventKind.CONFIRMED).update(created_at=moment)
    milestones_rebuild([report.pk])
    return Report.objects.get(pk=report.pk)


def tell(connection, report, n, status, moment, note=""):
    return signal_accept(
        signal=Signal(
            connection_id=connection.pk,
            message_id=f"m-{report.pk}-{n}",
            report_id=report.pk,
            status=ReportStatus(status) if status else None,
            note=note,
            happened_at=moment,
        )
    )


def fresh(report):
    return Report.objects.get(pk=report.pk)


def test_received_the_day_before_julafton_with_a_promise_of_three_working_days(
    case_system,
):
    # Tuesday 23 December 2025: 24–26 are days off, then a weekend; 29 and 30
    # count, nyårsafton and nyårsdagen do not, Friday 2 January is the third.
    report = received_at(delivered_report(), at(2025, 12, 23, 15, 30))
    assert report.received_on == dt.date(2025, 12, 23)
    assert report.received_month == dt.date(2025, 12, 1)
    assert (report.promise_response_days, report.promise_fix_days) == (3, 10)
    assert report.response_due_at == at(2026, 1, 5)
    assert report.due_at == report.response_due_at

    tell(case_system, report, 1, "in_progress", at(2026, 1, 2, 16, 0))
    report = fresh(report)
    assert report.first_response_at == at(2026, 1, 2, 16, 0)
    assert report.response_days == 3  # kept
    assert report.due_at == report.fix_due_at

    # The same answer one working day later breaks the promise.
    other = received_at(delivered_report(), at(2025, 12, 23, 9, 0))
    tell(case_system, other, 1, "in_progress", at(2026, 1, 5, 8, 0))
    assert fresh(other).response_days == 4


def test_the_day_before_julafton_2026_in_the_rules_themselves():
    received = at(2026, 12, 23, 10, 0)
    events = [
        {
            "id": 1,
            "kind": EventKind.CONFIRMED,
            "status": ReportStatus.OPEN,
            "is_public": True,
            "actor_kind": ActorKind.REPORTER,
            "happened_at": None,
            "created_at": received,
            "superseded": False,
        },
        {
            "id": 2,
            "kind": EventKind.NOTE,
            "status": ReportStatus.OPEN,
            "is_public": True,
            "actor_kind": ActorKind.STAFF,
            "happened_at": at(2026, 12, 31, 11, 0),  # nyårsafton, a day off
            "created_at": at(2026, 12, 31, 11, 0),
            "superseded": False,
        },
    ]
    fields = milestones_compute(
        confirmed_at=received,
        status=ReportStatus.OPEN,
        events=events,
        promise=Promise(response_days=3, fix_days=10),
        calendar=WorkingDays(),
    )
    assert fields["response_due_at"] == at(2027, 1, 4)
    assert fields["response_days"] == 3  # answered on a day off after the 3rd
    assert WorkingDays().last_day(fields["response_due_at"]) == dt.date(2026, 12, 30)


def test_a_late_signal_counts_when_it_happened_not_when_it_arrived(case_system):
    report = received_at(delivered_report(), timezone.now() - dt.timedelta(days=20))
    happened = timezone.now() - dt.timedelta(days=15)
    tell(case_system, report, 1, "fixed", happened)
    report = fresh(report)
    assert report.status == ReportStatus.FIXED
    assert report.first_response_at == happened
    assert report.fixed_at == report.closed_at == happened
    assert report.fix_days == WorkingDays().taken(report.confirmed_at, happened)
    assert report.due_at is None


def test_an_older_signal_arriving_after_a_newer_word_changes_no_status_but_answered(
    case_system, handler
):
    report = received_at(delivered_report(), timezone.now() - dt.timedelta(days=10))
    report_status_change(
        actor=handler, report_id=report.pk, status=ReportStatus.IN_PROGRESS
    )
    staff_answer = fresh(report).first_response_at
    # The case system says it was fixed before staff said "in progress".
    earlier = timezone.now() - dt.timedelta(days=8)
    tell(case_system, report, 1, "fixed", earlier)
    report = fresh(report)
    assert report.status == ReportStatus.IN_PROGRESS
    assert report.fixed_at is None and report.closed_at is None
    # The body did answer then: the first response is the earlier word.
    assert report.first_response_at == earlier < staff_answer
    assert report.due_at == report.fix_due_at


def test_a_reopened_report_is_fixed_only_from_its_new_fix(case_system):
    received = timezone.now() - dt.timedelta(days=40)
    report = received_at(delivered_report(), received)
    first_fix = received + dt.timedelta(days=2)
    reopened = received + dt.timedelta(days=5)
    second_fix = received + dt.timedelta(days=30)
    tell(case_system, report, 1, "fixed", first_fix)
    assert fresh(report).fixed_at == first_fix
    tell(case_system, report, 2, "open", reopened)
    report = fresh(report)
    assert (
        report.fixed_at is None and report.closed_at is None and report.fix_days is None
    )
    assert report.first_response_at == first_fix
    assert report.due_at == report.fix_due_at  # overdue again: 10 days passed
    assert report.due_at < timezone.now()
    tell(case_system, report, 3, "fixed", second_fix)
    report = fresh(report)
    assert report.fixed_at == report.closed_at == second_fix
    assert report.fix_days == WorkingDays().taken(received, second_fix) > 10


def test_a_handover_to_another_kommun_counts_once_there_under_its_promise(
    promises, handler
):
    malmo_admin = staff_user("malmo-admin", MALMO, StaffRole.ADMIN)
    report = confirmed_report()
    assert fresh(report).promise_response_days == 3
    report_reassign(
        actor=malmo_admin, report_id=report.pk, municipality_id=promises[1].pk
    )
    report = fresh(report)
    assert report.municipality_id == promises[1].pk
    # Lund's promise, counted from when Knutpunkt received it; the handover
    # told the reporter where it went: an answer.
    assert (report.promise_response_days, report.promise_fix_days) == (1, 5)
    assert report.response_due_at == WorkingDays().due(report.confirmed_at, 1)
    assert report.first_response_at is not None and report.response_days == 0
    assert Report.objects.filter(pk=report.pk).count() == 1


def test_a_duplicate_closes_as_such_and_leaves_the_original_alone(promises, handler):
    original = confirmed_report(title="Släckt lampa")
    copy = confirmed_report(point=(55.6051, 13.0039), title="Lampan är släckt")
    before = fresh(original)
    report_mark_duplicate(actor=handler, report_id=copy.pk, original_id=original.pk)
    copy = fresh(copy)
    assert copy.status == ReportStatus.DUPLICATE
    assert copy.closed_at is not None and copy.fixed_at is None and copy.due_at is None
    after = fresh(original)
    assert (after.first_response_at, after.due_at, after.closed_at) == (
        before.first_response_at,
        before.due_at,
        None,
    )


def test_internal_notes_the_reporters_words_and_sending_are_no_answer(
    case_system, handler
):
    report = delivered_report()
    report_note_add(actor=handler, report_id=report.pk, note="Ring elektrikern")
    report = fresh(report)
    assert report.first_response_at is None
    assert report.events.filter(kind=EventKind.CONFIRMED).exists()
    assert report.due_at == report.response_due_at


def test_an_unconfirmed_report_has_no_milestones_until_confirmed(promises):
    report = unconfirmed_report()
    assert fresh(report).received_on is None and fresh(report).due_at is None
    raw = token_issue(report=report, purpose=TokenPurpose.CONFIRM_REPORT)
    report_confirm(raw_token=raw)
    report = fresh(report)
    assert report.received_on == report.confirmed_at.astimezone(STOCKHOLM).date()
    assert report.promise_response_days == 3


def test_a_promise_edited_later_changes_no_report_already_received(promises, handler):
    earlier = confirmed_report()
    ServicePromise.objects.filter(municipality=promises[0]).update(response_days=5)
    later = confirmed_report(point=(55.6055, 13.0040))
    report_status_change(
        actor=handler, report_id=earlier.pk, status=ReportStatus.IN_PROGRESS
    )
    assert fresh(earlier).promise_response_days == 3
    assert fresh(later).promise_response_days == 5


def test_a_category_promise_comes_before_the_kommuns_default(promises):
    from tests.support.casehub import lamp_category

    ServicePromise.objects.create(
        municipality=promises[0], category=lamp_category(), response_days=1, fix_days=2
    )
    report = fresh(confirmed_report())
    assert (report.promise_response_days, report.promise_fix_days) == (1, 2)


def test_without_a_promise_nothing_falls_due():
    report = fresh(confirmed_report())
    assert report.received_on is not None
    assert report.response_due_at is None and report.due_at is None


def test_a_year_without_a_calendar_keeps_the_times_and_counts_no_days():
    received = dt.datetime(2101, 3, 1, 12, tzinfo=dt.UTC)
    fields = milestones_compute(
        confirmed_at=received,
        status=ReportStatus.FIXED,
        events=[
            {
                "id": 1,
                "kind": EventKind.STATUS,
                "status": ReportStatus.FIXED,
                "is_public": True,
                "actor_kind": ActorKind.STAFF,
                "happened_at": received + dt.timedelta(days=3),
                "created_at": received + dt.timedelta(days=3),
                "superseded": False,
            }
        ],
        promise=Promise(response_days=2, fix_days=5),
        calendar=WorkingDays(),
    )
    assert fields["fixed_at"] == received + dt.timedelta(days=3)
    assert fields["fix_days"] is None and fields["response_due_at"] is None
