"""Handing a report over (workspace.services.report_reassign): to another body
or kommun by whoever works it; delivered to the new body, the case system it
leaves told through the outbox, a public event saying where it went, audited;
bad input shown at its field, a stale form refused, another kommun's staff
refused with a 404 (and, after a move, the old kommun's staff too)."""

import os

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ValidationError

from casehub.choices import DeliveryKind, DeliveryState
from casehub.models import Delivery
from config.asgi import application
from municipalities.choices import ConnectionKind, StaffRole
from municipalities.models import AuditEntry, Category, Connection, Municipality, Route
from reports.choices import EventKind
from reports.models import Report, ReportEvent
from tests.support.casework import (
    LUND,
    MALMO,
    as_user,
    kommun_body,
    make_delivery,
    make_report,
)
from tests.support.people import staff_user
from tests.workspace.test_roles import second_body
from workspace.services import report_reassign, report_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def malmo_admin():
    return staff_user("malmo-admin", MALMO, StaffRole.ADMIN)


@pytest.fixture
def outside():
    """A Malmö street-light report whose case is in the street department's own
    case system (a webhook), and the property department, which takes graffiti
    on schools in its inbox."""
    street = kommun_body(MALMO)
    webhook = Connection.objects.create(
        body=street,
        name="Gatukontorets ärendesystem",
        kind=ConnectionKind.WEBHOOK,
        endpoint="https://example.org/hook",
    )
    report = make_report(MALMO, title="Klotter på lyktstolpen")
    make_delivery(report, webhook, DeliveryState.DELIVERED, external_id="EXT-991")
    property_body = second_body()
    schools = Category.objects.create(name="Klotter på skolor", slug="skolklotter")
    Route.objects.create(
        municipality=Municipality.objects.get(code=MALMO),
        category=schools,
        body=property_body,
    )
    return {
        "street": street,
        "report": report,
        "webhook": webhook,
        "property": property_body,
        "schools": schools,
    }


def post_reassign(client, report, **fields):
    data = {"action": "reassign", "reassign-version": report_version(report.pk)}
    data.update({f"reassign-{name}": value for name, value in fields.items()})
    return client.post(f"/admin/inbox/{report.pk}/", data)


def test_handed_over_to_another_body_delivered_there_and_the_old_system_told(
    client, malmo_admin, outside
):
    report = outside["report"]
    as_user(client, malmo_admin)
    response = post_reassign(
        client,
        report,
        category=outside["schools"].pk,
        municipality=report.municipality_id,
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.body, report.category) == (outside["property"], outside["schools"])
    # Delivered to the new body's inbox...
    new_case = Delivery.objects.get(
        report=report, kind=DeliveryKind.CASE, connection__body=outside["property"]
    )
    assert new_case.state == DeliveryState.PENDING
    # ...and the case system it left is told, through the outbox.
    (update,) = Delivery.objects.filter(report=report, kind=DeliveryKind.UPDATE)
    assert update.connection == outside["webhook"]
    assert update.event.kind == EventKind.HANDOVER and update.event.is_public
    assert update.event.data["to"] == "Fastighetskontoret"
    # Public, on the report's page.
    page = client.get(report.get_absolute_url())
    assert "Fastighetskontoret, Malmö" in page.content.decode()
    # Audited, with before and after.
    entry = AuditEntry.objects.get(action="report.reassign")
    assert entry.before["body"] == outside["street"].pk
    assert entry.after["body"] == outside["property"].pk
    # The report's screen shows the update's delivery state.
    html = client.get(f"/admin/inbox/{report.pk}/").content.decode()
    assert "delivery-update" in html and "Gatukontorets ärendesystem" in html


def test_handed_over_to_another_kommun_its_staff_see_it_and_the_old_ones_not(
    client, malmo_admin, outside
):
    report = outside["report"]
    lund = Municipality.objects.get(code=LUND)
    as_user(client, malmo_admin)
    response = post_reassign(
        client, report, category=report.category_id, municipality=lund.pk
    )
    assert response.status_code == 302 and response["Location"].endswith("/inbox/")
    report.refresh_from_db()
    assert (report.municipality, report.body) == (lund, kommun_body(LUND))
    assert client.get(f"/admin/inbox/{report.pk}/").status_code == 404
    listing = client.get("/admin/inbox/").content.decode()
    assert "Klotter på lyktstolpen" not in listing
    as_user(client, staff_user("lund-admin", LUND, StaffRole.ADMIN))
    assert client.get(f"/admin/inbox/{report.pk}/").status_code == 200
    assert Delivery.objects.filter(
        report=report, kind=DeliveryKind.CASE, connection__body=kommun_body(LUND)
    ).exists()
    (event,) = ReportEvent.objects.filter(report=report, kind=EventKind.HANDOVER)
    assert event.data["municipality"] == lund.name
    client.logout()
    public = client.get(report.get_absolute_url()).content.decode()
    assert f"{kommun_body(LUND).name}, {lund.name}" in public


def test_a_category_not_offered_in_the_kommun_is_refused_at_its_field(
    client, malmo_admin, outside
):
    report = outside["report"]
    as_user(client, malmo_admin)
    response = post_reassign(
        client,
        report,
        category=outside["schools"].pk,
        municipality=Municipality.objects.get(code=LUND).pk,
    )
    assert response.status_code == 200
    form = response.context["reassign_form"]
    assert "is not offered in" in " ".join(form.errors["category"])
    assert form["category"].value() == str(outside["schools"].pk)  # kept
    fresh = Report.objects.get(pk=report.pk)
    assert (fresh.category_id, fresh.municipality_id) == (
        report.category_id,
        report.municipality_id,
    )
    assert not ReportEvent.objects.filter(report=report).exists()
    with pytest.raises(ValidationError) as error:
        report_reassign(
            actor=malmo_admin,
            report_id=report.pk,
            category_id=outside["schools"].pk,
            body_id=outside["street"].pk,
        )
    assert "body" in error.value.message_dict


def test_a_stale_handover_is_refused_and_what_changed_shown(
    client, malmo_admin, outside
):
    report = outside["report"]
    as_user(client, malmo_admin)
    version = report_version(report.pk)
    client.post(
        f"/admin/inbox/{report.pk}/",
        {"action": "note", "note-note": "Intern anteckning"},
    )
    response = client.post(
        f"/admin/inbox/{report.pk}/",
        {
            "action": "reassign",
            "reassign-version": version,
            "reassign-category": outside["schools"].pk,
            "reassign-municipality": report.municipality_id,
        },
    )
    assert response.status_code == 409
    assert Report.objects.get(pk=report.pk).body_id == report.body_id


@pytest.mark.parametrize("role", [StaffRole.ADMIN, StaffRole.CASE_HANDLER])
def test_lunds_staff_cannot_hand_over_a_malmo_report(client, outside, role):
    report = outside["report"]
    as_user(client, staff_user("lund-personal", LUND, role))
    response = post_reassign(
        client,
        report,
        category=report.category_id,
        municipality=Municipality.objects.get(code=LUND).pk,
    )
    assert response.status_code == 404
    assert Report.objects.get(pk=report.pk).municipality_id == report.municipality_id


def test_the_contact_centre_sees_no_handover_form_and_may_not(client, outside):
    report = outside["report"]
    as_user(client, staff_user("kontakt", MALMO, StaffRole.CONTACT_CENTRE))
    html = client.get(f"/admin/inbox/{report.pk}/").content.decode()
    assert 'name="reassign-category"' not in html
    response = post_reassign(
        client,
        report,
        category=outside["schools"].pk,
        municipality=report.municipality_id,
    )
    assert response.status_code == 403
    assert Report.objects.get(pk=report.pk).body_id == report.body_id


def test_handed_over_before_its_case_was_sent_it_never_reaches_the_old_body(
    malmo_admin, outside
):
    """The old case, still waiting, is withdrawn with nothing to tell; the new
    body's case is queued."""
    report = make_report(MALMO, title="Ännu inte skickad")
    waiting = make_delivery(report, outside["webhook"], DeliveryState.FAILED)
    event = report_reassign(
        actor=malmo_admin, report_id=report.pk, category_id=outside["schools"].pk
    )
    assert event.kind == EventKind.HANDOVER
    waiting.refresh_from_db()
    assert waiting.state == DeliveryState.WITHDRAWN
    assert not Delivery.objects.filter(report=report, kind=DeliveryKind.UPDATE)
    assert (
        Delivery.objects.get(
            report=report, kind=DeliveryKind.CASE, state=DeliveryState.PENDING
        ).connection.body
        == outside["property"]
    )


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="in-process sockets need the embedded profile's shared test database",
)
def test_the_handover_reaches_the_reports_watchers_live(
    malmo_admin, outside, django_capture_on_commit_callbacks
):
    report = outside["report"]

    def hand_over():
        with django_capture_on_commit_callbacks(execute=True):
            report_reassign(
                actor=malmo_admin,
                report_id=report.pk,
                category_id=outside["schools"].pk,
            )

    async def scenario():
        watcher = WebsocketCommunicator(
            application,
            f"/ws/reports/{report.pk}/",
            headers=[(b"host", b"localhost"), (b"origin", b"http://localhost")],
        )
        connected, _ = await watcher.connect()
        assert connected
        await sync_to_async(hand_over)()
        frame = await watcher.receive_json_from(timeout=10)
        await watcher.disconnect()
        return frame

    frame = async_to_sync(scenario)()
    assert frame["kind"] == EventKind.HANDOVER
    assert "Fastighetskontoret, Malmö" in str(frame)
