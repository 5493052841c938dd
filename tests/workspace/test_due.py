"""When open reports' promises fall due, in the inbox: the column, the "due
soon" and "overdue" filters (in the list, on the map, in saved filters and
with the action bar), sorting by due date, and another kommun's reports never
shown."""

import datetime as dt
import json
import zoneinfo

import pytest
from django.utils import timezone

from municipalities.choices import StaffRole
from municipalities.models import Municipality, ServicePromise, WorkCalendar
from reports.choices import ReportStatus
from reports.milestones import milestones_rebuild
from reports.models import Report
from tests.support.casehub import confirmed_report
from tests.support.casework import LUND, MALMO, POINTS, as_user
from tests.support.factories import category
from tests.support.people import staff_user
from workspace.due import due_q
from workspace.models import SavedFilter

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
REGION = {"bbox": "12.8,55.5,13.4,55.8", "zoom": "9"}


def at(year, month, day, hour=10):
    return dt.datetime(year, month, day, hour, tzinfo=STOCKHOLM)


def promise(code, *, response_days, fix_days=20, category_slug=None):
    return ServicePromise.objects.create(
        municipality=Municipality.objects.get(code=code),
        category=category(category_slug) if category_slug else None,
        response_days=response_days,
        fix_days=fix_days,
    )


def received(code, when, *, title, category_slug="gatubelysning"):
    """A report submitted through the services and received at ``when``: its
    milestones (due_at) computed by reports.milestones from that moment."""
    report = confirmed_report(
        point=POINTS[code], category=category(category_slug), title=title
    )
    Report.objects.filter(pk=report.pk).update(confirmed_at=when)
    milestones_rebuild([report.pk])
    report.refresh_from_db()
    return report


def found(which, now):
    return set(Report.objects.filter(due_q(which, now)).values_list("title", flat=True))


@pytest.mark.django_db
def test_due_soon_runs_over_a_weekend_to_the_end_of_the_next_working_day():
    promise(MALMO, response_days=1)
    promise(MALMO, response_days=2, category_slug="park")
    promise(MALMO, response_days=3, category_slug="klotter")
    thursday = at(2026, 12, 3)
    received(MALMO, at(2026, 12, 2), title="due Thursday")  # 1 day
    received(MALMO, thursday, title="due Friday")  # 1 day
    received(MALMO, thursday, title="due Monday", category_slug="park")
    received(MALMO, thursday, title="due Tuesday", category_slug="klotter")
    # A promise breaks when the working day after its last begins.
    assert Report.objects.get(title="due Friday").due_at == at(2026, 12, 7, 0)
    assert Report.objects.get(title="due Monday").due_at == at(2026, 12, 8, 0)

    friday = at(2026, 12, 4)
    assert found("soon", friday) == {"due Friday", "due Monday"}
    assert found("overdue", friday) == {"due Thursday"}
    # On Saturday the next working day is still Monday, and Friday's promise
    # is not broken before Monday begins.
    saturday = at(2026, 12, 5)
    assert found("soon", saturday) == {"due Friday", "due Monday"}
    assert found("overdue", saturday) == {"due Thursday"}
    assert found("overdue", at(2026, 12, 7, 1)) == {"due Thursday", "due Friday"}


@pytest.mark.django_db
def test_due_soon_skips_holidays_by_each_kommuns_own_calendar():
    for code in (MALMO, LUND):
        promise(code, response_days=1)
        promise(code, response_days=2, category_slug="park")
    # Lund works on Christmas Eve; Malmö keeps the default (a day off).
    WorkCalendar.objects.create(
        municipality=Municipality.objects.get(code=LUND), christmas_eve_off=False
    )
    wednesday = at(2026, 12, 23, 9)
    received(MALMO, wednesday, title="Malmö, 1 day")
    received(MALMO, wednesday, title="Malmö, 2 days", category_slug="park")
    received(LUND, wednesday, title="Lund, 1 day")
    received(LUND, wednesday, title="Lund, 2 days", category_slug="park")
    # Malmö: 24-27 December are days off, so one working day is Monday 28th;
    # in Lund it is Christmas Eve, broken when Monday 28th begins.
    assert Report.objects.get(title="Malmö, 1 day").due_at == at(2026, 12, 29, 0)
    assert Report.objects.get(title="Lund, 1 day").due_at == at(2026, 12, 28, 0)

    now = at(2026, 12, 23, 15)
    # Malmö's next working day is the 28th; Lund's is Christmas Eve.
    assert found("soon", now) == {"Malmö, 1 day", "Lund, 1 day"}
    assert found("overdue", now) == set()
    # On Christmas Day both kommuners' next working day is Monday 28th.
    christmas = at(2026, 12, 25)
    assert found("overdue", christmas) == set()
    assert found("soon", christmas) == {"Malmö, 1 day", "Lund, 1 day", "Lund, 2 days"}
    # On Monday Lund's Christmas Eve promise is broken, Malmö's not yet.
    monday = at(2026, 12, 28)
    assert found("overdue", monday) == {"Lund, 1 day"}
    assert found("soon", monday) == {"Malmö, 1 day", "Malmö, 2 days", "Lund, 2 days"}


@pytest.fixture
def overdue_world():
    """In Malmö and Lund: a report received 30 days ago (overdue), one
    received now (due later) and a closed one (no due date)."""
    for code in (MALMO, LUND):
        promise(code, response_days=2, fix_days=10)
    month_ago = timezone.now() - dt.timedelta(days=30)
    return {
        "late": received(MALMO, month_ago, title="Sen lykta i Malmö"),
        "later": received(
            MALMO, month_ago + dt.timedelta(days=1), title="Nästan lika sen"
        ),
        "fresh": received(MALMO, timezone.now(), title="Ny lykta i Malmö"),
        "lund": received(LUND, month_ago, title="Sen lykta i Lund"),
    }


@pytest.fixture
def handler(client):
    return as_user(client, staff_user("due-handler", MALMO, StaffRole.CASE_HANDLER))


@pytest.mark.django_db
def test_the_inbox_shows_when_each_report_falls_due_and_marks_the_overdue_in_words(
    handler, overdue_world
):
    late = overdue_world["late"]
    html = handler.get("/admin/inbox/").content.decode()
    assert "Sen lykta i Malmö" in html and "Ny lykta i Malmö" in html
    # Overdue in words, not colour only.
    assert html.count("inbox-due-overdue") == 2
    assert "<strong>Overdue</strong>" in html
    assert late.due_at is not None


@pytest.mark.django_db
def test_the_overdue_filter_lists_the_kommuns_overdue_reports_only(
    handler, overdue_world
):
    html = handler.get("/admin/inbox/", {"due": "overdue"}).content.decode()
    assert "Sen lykta i Malmö" in html and "Nästan lika sen" in html
    assert "Ny lykta i Malmö" not in html
    # Another kommun's overdue report never appears.
    assert "Sen lykta i Lund" not in html
    assert f"/admin/inbox/{overdue_world['lund'].pk}/" not in html

    soon = handler.get("/admin/inbox/", {"due": "soon"}).content.decode()
    assert "Sen lykta i Malmö" not in soon and "Sen lykta i Lund" not in soon


@pytest.mark.django_db
def test_the_inbox_sorts_by_due_date_with_undated_reports_last(handler, overdue_world):
    closed = overdue_world["fresh"]
    Report.objects.filter(pk=closed.pk).update(status=ReportStatus.FIXED)
    milestones_rebuild([closed.pk])
    html = handler.get("/admin/inbox/", {"ordering": "due_at"}).content.decode()
    order = [html.index(t) for t in ("Sen lykta i", "Nästan lika sen", "Ny lykta")]
    assert order == sorted(order)
    html = handler.get("/admin/inbox/", {"ordering": "-due_at"}).content.decode()
    order = [html.index(t) for t in ("Nästan lika sen", "Sen lykta i", "Ny lykta")]
    assert order == sorted(order)


@pytest.mark.django_db
def test_the_map_takes_the_same_filter(handler, overdue_world):
    response = handler.get("/admin/inbox/map/reports/", {**REGION, "due": "overdue"})
    assert response.status_code == 200
    features = json.loads(response.content)["features"]
    counted = sum(
        f["properties"]["count"] if f["properties"]["cluster"] else 1 for f in features
    )
    assert counted == 2
    ids = {f["properties"].get("id") for f in features}
    assert overdue_world["lund"].pk not in ids
    assert overdue_world["fresh"].pk not in ids


@pytest.mark.django_db
def test_the_filter_is_saved_and_kept_by_the_action_bar(handler, overdue_world):
    response = handler.post(
        "/admin/inbox/saved-filters/",
        {"name": "Försenade", "query": "due=overdue&ordering=due_at"},
    )
    assert response.status_code == 302
    assert (
        SavedFilter.objects.get(name="Försenade").query == "due=overdue&ordering=due_at"
    )
    listed = handler.get(response["Location"]).content.decode()
    assert "Sen lykta i Malmö" in listed and "Ny lykta i Malmö" not in listed

    late, lund = overdue_world["late"], overdue_world["lund"]
    response = handler.post(
        "/admin/inbox/bulk/",
        {
            "reports": [late.pk, lund.pk],
            "action": "status",
            "status": ReportStatus.IN_PROGRESS,
            "query": "due=overdue",
        },
    )
    assert response["Location"] == "/admin/inbox/?due=overdue"
    late.refresh_from_db()
    lund.refresh_from_db()
    assert late.status == ReportStatus.IN_PROGRESS
    assert lund.status == ReportStatus.OPEN
    # Answered now: its next promise is the fix, still overdue after 30 days.
    assert late.first_response_at is not None and late.due_at == late.fix_due_at


@pytest.mark.django_db
def test_a_bad_due_value_shows_nothing_and_says_why(handler, overdue_world):
    html = handler.get("/admin/inbox/", {"due": "yesterday"}).content.decode()
    assert "Sen lykta i Malmö" not in html
