"""The demo's case system for Malmö's street department: it takes the reports
delivered to it and, seconds later here (minutes in the demo), moves them to
"in progress" and "fixed"; the updates come in through the real intake (the
connection's Open311 update polling)."""

import json
import time
import urllib.error
import urllib.request

import pytest
from django.utils import timezone

from casehub.polling import updates_poll
from config.demo_case_system import (
    BODY_SLUG,
    FIXED_NOTE,
    IN_PROGRESS_NOTE,
    DemoCaseSystem,
    demo_case_system_connect,
    demo_case_system_start,
    demo_connection,
)
from municipalities.models import Category, Connection
from reports.choices import ActorKind, EventKind, ReportStatus
from reports.models import Report, ReportEvent
from tests.support.casehub import confirmed_report, deliver_due, delivery_of

pytestmark = pytest.mark.django_db

IN_PROGRESS_AFTER, FIXED_AFTER = 2.0, 5.0


@pytest.fixture
def street_department(settings):
    settings.KNUTPUNKT_DELIVERY = {
        **settings.KNUTPUNKT_DELIVERY,
        "poll_updates_seconds": 0,
    }
    connection = demo_case_system_connect()
    system = DemoCaseSystem(
        in_progress_after=IN_PROGRESS_AFTER, fixed_after=FIXED_AFTER
    ).start()
    Connection.objects.filter(pk=connection.pk).update(endpoint=system.url)
    yield connection
    system.stop()


def poll_when(seconds_after: float, start: float, connection) -> None:
    time.sleep(max(0.0, start + seconds_after - time.monotonic()))
    assert not updates_poll(connection_id=connection.pk, now=timezone.now()).error


def test_reports_to_the_street_department_move_on_through_the_intake(
    street_department,
):
    potholes = Category.objects.get(slug="vagar-ovriga")
    reports = [
        confirmed_report(category=potholes, title=f"Potthål {n}") for n in (1, 2, 3)
    ]
    assert {r.body.slug for r in reports} == {BODY_SLUG}
    start = time.monotonic()
    assert deliver_due() == ["delivered"] * 3
    cases = sorted(delivery_of(r).external_id for r in reports)
    assert cases == ["GK-00001", "GK-00002", "GK-00003"]

    # Nothing has happened at the street department yet.
    poll_when(0, start, street_department)
    assert set(Report.objects.values_list("status", flat=True)) == {"open"}

    poll_when(IN_PROGRESS_AFTER + 0.5, start, street_department)
    # (Update times are whole seconds: "fixed" is stamped a second early at most.)
    if time.monotonic() - start < FIXED_AFTER - 1:
        for report in reports:
            report.refresh_from_db()
            assert report.status == ReportStatus.IN_PROGRESS

    poll_when(FIXED_AFTER + 1.2, start, street_department)
    by_case = {delivery_of(r).external_id: r for r in reports}
    statuses = {}
    for case, report in by_case.items():
        report.refresh_from_db()
        statuses[case] = report.status
    # Two of three are fixed, the third stays in progress.
    assert statuses == {
        "GK-00001": ReportStatus.FIXED,
        "GK-00002": ReportStatus.FIXED,
        "GK-00003": ReportStatus.IN_PROGRESS,
    }
    events = ReportEvent.objects.filter(
        report=by_case["GK-00001"], kind=EventKind.STATUS
    ).order_by("pk")
    assert [(e.status, e.note, e.is_public) for e in events] == [
        (ReportStatus.IN_PROGRESS, IN_PROGRESS_NOTE, True),
        (ReportStatus.FIXED, FIXED_NOTE, True),
    ]
    assert {(e.actor_kind, e.connection_id) for e in events} == {
        (ActorKind.CONNECTION, street_department.pk)
    }


def test_a_repeated_delivery_gets_the_same_case(street_department):
    report = confirmed_report(category=Category.objects.get(slug="trafiksignaler"))
    system = DemoCaseSystem().start()
    try:
        form = b"service_code=GK-SIGNAL&lat=55.6&long=13.0&description=Alltid+rott"
        answers = []
        for _ in range(2):
            request = urllib.request.Request(  # noqa: S310 (loopback http)
                system.url + "requests.json",
                data=form,
                headers={"Idempotency-Key": f"key-{report.pk}"},
            )
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                answers.append(json.loads(response.read()))
        assert answers[0] == answers[1] == [{"service_request_id": "GK-00001"}]
        bad = urllib.request.Request(  # noqa: S310 (loopback http)
            system.url + "requests.json", data=b"service_code=NOPE"
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bad, timeout=5)  # noqa: S310
        assert refused.value.code == 400
    finally:
        system.stop()


def test_it_starts_only_where_the_settings_have_it_and_the_demo_is_loaded(settings):
    settings.KNUTPUNKT_DEMO_CASE_SYSTEM = None
    demo_case_system_connect()
    assert demo_case_system_start() is None  # production: never
    settings.KNUTPUNKT_DEMO_CASE_SYSTEM = {"port": 0}
    Connection.objects.filter(pk=demo_connection().pk).delete()
    assert demo_case_system_start() is None  # no demo loaded: nothing to serve
    demo_case_system_connect()
    system = demo_case_system_start()
    try:
        # Where the connection expects it (here: a free port it was pointed to).
        assert demo_connection().endpoint == system.url
        assert system.url.startswith("http://127.0.0.1:")
    finally:
        system.stop()


def test_load_demo_is_idempotent_for_the_street_department():
    first = demo_case_system_connect()
    again = demo_case_system_connect()
    assert first.pk == again.pk
    assert first.services.count() == 4
    assert first.poll_updates and first.endpoint.startswith("http://127.0.0.1:")
