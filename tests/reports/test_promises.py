"""Service promises where citizens see them (the report form, the report page,
the promises page of each site) and a kommun's working days changing when its
open reports fall due."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import clear_url_caches
from django.utils import translation

from municipalities.choices import StaffRole
from municipalities.models import Municipality, ServicePromise, WorkCalendar
from municipalities.promises import Promise, promise_sentence
from reports.choices import ReportStatus
from reports.milestones import milestones_refresh
from reports.models import Report
from tests.support import factories
from tests.support.people import staff_user

pytestmark = pytest.mark.django_db

MALMO, LUND = "1280", "1281"
STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
# A Wednesday; Friday 25 June 2027 is midsommarafton.
BEFORE_MIDSUMMER = dt.datetime(2027, 6, 23, 10, 0, tzinfo=STOCKHOLM)
POINT = {"lat": "55.6059", "lon": "13.0007"}


def start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), STOCKHOLM)


def end_of(day: dt.date) -> dt.datetime:
    """A promise whose last working day is ``day``, followed by a working
    day, breaks when ``day`` ends."""
    return start_of(day + dt.timedelta(days=1))


def kommun(code: str) -> Municipality:
    return Municipality.objects.get(code=code)


def promise(code=MALMO, category=None, response=2, fix=3) -> ServicePromise:
    return ServicePromise.objects.create(
        municipality=kommun(code),
        category=category,
        response_days=response,
        fix_days=fix,
    )


def received(code=MALMO, **fields) -> Report:
    """A report received just before midsommar, with its milestones."""
    if code == LUND:
        fields.setdefault("point", (55.7047, 13.1910))
    report = factories.report(code=code, confirmed_at=BEFORE_MIDSUMMER, **fields)
    milestones_refresh(report_id=report.pk, promise_again=True)
    report.refresh_from_db()
    return report


# --- the sentence ---------------------------------------------------------------------


def test_a_promise_is_said_with_plurals_in_swedish_and_english():
    with translation.override("sv"):
        assert promise_sentence(Promise(response_days=2, fix_days=10)) == (
            "Vi svarar inom 2 arbetsdagar och åtgärdar inom 10 arbetsdagar."
        )
        assert promise_sentence(Promise(response_days=1, fix_days=1)) == (
            "Vi svarar inom 1 arbetsdag och åtgärdar inom 1 arbetsdag."
        )
    with translation.override("en"):
        assert promise_sentence(Promise(response_days=1, fix_days=5)) == (
            "We respond within 1 working day and fix it within 5 working days."
        )


# --- a kommun's working days change ---------------------------------------------------


@pytest.fixture
def malmo_admin(client):
    client.force_login(staff_user("malmo-admin-days", MALMO, StaffRole.ADMIN))
    return client


def calendar_form(**off) -> dict:
    form = {"municipality": kommun(MALMO).pk, "extra_days_off": off.pop("extra", "")}
    for name in ("midsummer_eve_off", "christmas_eve_off", "new_years_eve_off"):
        if off.get(name, True):
            form[name] = "on"
    return form


def test_saving_the_calendar_moves_the_kommuns_open_reports_due_dates(
    malmo_admin, django_capture_on_commit_callbacks
):
    promise(MALMO)
    promise(LUND)
    open_report = received(MALMO)
    answered = received(MALMO, status=ReportStatus.IN_PROGRESS)
    closed = received(MALMO, status=ReportStatus.FIXED)
    lund = received(LUND)
    # All three de facto days off: midsommarafton is not a working day.
    assert open_report.response_due_at == end_of(dt.date(2027, 6, 28))
    assert open_report.fix_due_at == end_of(dt.date(2027, 6, 29))
    before_closed = closed.fix_due_at

    with django_capture_on_commit_callbacks(execute=True):
        response = malmo_admin.post(
            "/admin/working-days/new/", calendar_form(midsummer_eve_off=False)
        )
    assert response.status_code == 302

    open_report.refresh_from_db()
    # Midsommarafton is a working day: the promise breaks when Monday begins.
    assert open_report.response_due_at == start_of(dt.date(2027, 6, 28))
    assert open_report.fix_due_at == end_of(dt.date(2027, 6, 28))
    assert open_report.due_at == open_report.response_due_at
    answered.refresh_from_db()
    assert answered.fix_due_at == end_of(dt.date(2027, 6, 28))
    closed.refresh_from_db()
    assert closed.fix_due_at == before_closed
    lund.refresh_from_db()
    assert lund.response_due_at == end_of(dt.date(2027, 6, 28))

    # An extra day off, then the calendar deleted: back to the national default.
    calendar = WorkCalendar.objects.get(municipality__code=MALMO)
    with django_capture_on_commit_callbacks(execute=True):
        malmo_admin.post(
            f"/admin/working-days/edit/{calendar.pk}/",
            calendar_form(midsummer_eve_off=False, extra="2027-06-24 Klämdag"),
        )
    open_report.refresh_from_db()
    assert open_report.response_due_at == end_of(dt.date(2027, 6, 28))
    with django_capture_on_commit_callbacks(execute=True):
        malmo_admin.post(f"/admin/working-days/delete/{calendar.pk}/")
    assert not WorkCalendar.objects.exists()
    open_report.refresh_from_db()
    assert open_report.response_due_at == end_of(dt.date(2027, 6, 28))
    assert open_report.fix_due_at == end_of(dt.date(2027, 6, 29))


def test_a_refused_calendar_moves_nothing(
    malmo_admin, django_capture_on_commit_callbacks
):
    promise(MALMO)
    report = received(MALMO)
    before = report.response_due_at
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = malmo_admin.post(
            "/admin/working-days/new/",
            calendar_form(midsummer_eve_off=False, extra="2027-02-30"),
        )
    assert response.status_code == 200
    assert callbacks == []
    report.refresh_from_db()
    assert report.response_due_at == before


def test_editing_a_promise_changes_no_report_received(
    malmo_admin, django_capture_on_commit_callbacks
):
    kept = promise(MALMO)
    report = received(MALMO)
    with django_capture_on_commit_callbacks(execute=True):
        response = malmo_admin.post(
            f"/admin/service-promises/edit/{kept.pk}/",
            {
                "municipality": kommun(MALMO).pk,
                "category": "",
                "response_days": "5",
                "fix_days": "20",
            },
        )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.promise_response_days, report.promise_fix_days) == (2, 3)
    assert report.response_due_at == end_of(dt.date(2027, 6, 28))
    # A calendar change later still counts the promise it was received under.
    with django_capture_on_commit_callbacks(execute=True):
        malmo_admin.post(
            "/admin/working-days/new/", calendar_form(midsummer_eve_off=False)
        )
    report.refresh_from_db()
    assert (report.promise_response_days, report.promise_fix_days) == (2, 3)
    assert report.response_due_at == start_of(dt.date(2027, 6, 28))


# --- the report form ------------------------------------------------------------------


def test_the_categories_say_the_kommuns_promise_for_each(client):
    lamp = factories.category("gatubelysning")
    promise(MALMO, response=2, fix=10)
    promise(MALMO, category=lamp, response=1, fix=5)
    html = client.get("/rapportera/kategorier/", POINT).content.decode()
    assert (
        'id="promise_gatubelysning" data-category="gatubelysning"><strong>'
        "Service promise:</strong> We respond within 1 working day and fix it "
        "within 5 working days.</p>"
    ) in html
    assert 'aria-describedby="promise_gatubelysning"' in html
    # A category without its own: the kommun's default.
    assert (
        'id="promise_klotter" data-category="klotter"><strong>Service promise:'
        "</strong> We respond within 2 working days and fix it within 10 working "
        "days.</p>"
    ) in html


def test_without_a_promise_the_form_says_none(client):
    html = client.get("/rapportera/kategorier/", POINT).content.decode()
    assert "Service promise" not in html and 'class="promise"' not in html


def test_the_form_without_javascript_shows_the_promise_with_the_place(client):
    promise(MALMO, response=2, fix=10)
    html = client.get("/rapportera/", POINT).content.decode()
    assert "We respond within 2 working days and fix it within 10 working days." in html


# --- the report page ------------------------------------------------------------------


def test_the_report_page_says_the_promise_and_by_when(client):
    promise(MALMO, response=2, fix=3)
    report = received(MALMO)
    html = client.get(f"/rapporter/{report.pk}/").content.decode()
    assert "We respond within 2 working days and fix it within 3 working days." in html
    assert '<time datetime="2027-06-28">June 28, 2027</time>' in html
    assert '<time datetime="2027-06-29">June 29, 2027</time>' in html


def test_a_closed_report_says_its_promise_but_no_longer_by_when(client):
    promise(MALMO, response=2, fix=3)
    report = received(MALMO, status=ReportStatus.FIXED)
    html = client.get(f"/rapporter/{report.pk}/").content.decode()
    assert "We respond within 2 working days" in html
    assert "2027-06-29" not in html and "First response by" not in html


def test_a_report_received_without_a_promise_says_nothing_of_one(client):
    report = received(MALMO)
    html = client.get(f"/rapporter/{report.pk}/").content.decode()
    assert "Service promise" not in html.split("site-footer")[0]


# --- the promises page ----------------------------------------------------------------


def test_a_kommuns_site_lists_its_promises(client):
    lamp = factories.category("gatubelysning")
    promise(MALMO, response=2, fix=10)
    promise(MALMO, category=lamp, response=1, fix=5)
    promise(LUND, response=4, fix=20)
    page = client.get("/servicelofte/", HTTP_HOST="malmo.localhost")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Gatubelysning" in html and "Every other category" in html
    assert "We respond within 1 working day and fix it within 5 working days." in html
    assert "We respond within 2 working days and fix it within 10" in html
    assert "20 working days" not in html  # Lund's
    assert 'href="/servicelofte/"' in html  # the footer links it


def test_the_national_site_lists_each_participating_kommuns_default(client):
    promise(MALMO, response=2, fix=10)
    html = client.get("/servicelofte/").content.decode()
    assert "Malmö" in html and "Lund" in html
    assert "We respond within 2 working days and fix it within 10" in html
    assert "No service promise published." in html  # Lund has none
    assert "Stockholm" not in html  # not taking reports
    assert 'href="/servicelofte/"' in client.get("/rapportera/").content.decode()


def test_the_promises_page_speaks_swedish(client, settings):
    settings.LANGUAGE_CODE = "sv"
    clear_url_caches()
    promise(MALMO, response=1, fix=10)
    html = client.get("/servicelofte/").content.decode()
    clear_url_caches()
    assert "Servicelöften" in html
    assert "Vi svarar inom 1 arbetsdag och åtgärdar inom 10 arbetsdagar." in html
