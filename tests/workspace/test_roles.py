"""Who sees and works which reports in the workspace (municipalities.staff): one
leak test per view, and each role's reach."""

import pytest

from casehub.choices import DeliveryKind, DeliveryState
from casehub.models import Delivery
from municipalities.choices import BodyKind, ConnectionKind, StaffRole
from municipalities.models import Body, Connection, Municipality
from municipalities.services import staff_membership_grant
from reports.choices import ReportPriority, ReportStatus
from reports.models import Report, ReportEvent
from tests.support.casework import (
    LUND,
    MALMO,
    as_user,
    inbox,
    kommun_body,
    make_delivery,
    make_report,
)
from tests.support.people import staff_user, superuser

pytestmark = pytest.mark.django_db


def second_body() -> Body:
    """Malmö's property department, working its reports in the inbox too."""
    body = Body.objects.create(
        name="Fastighetskontoret", slug="malmo-fastighet", kind=BodyKind.MUNICIPAL
    )
    body.municipalities.add(Municipality.objects.get(code=MALMO))
    Connection.objects.create(body=body, name="Inkorg", kind=ConnectionKind.INBOX)
    return body


def handler_of(username: str, body: Body):
    user = staff_user(username, MALMO, StaffRole.CASE_HANDLER)
    staff_membership_grant(
        user=user,
        municipality=Municipality.objects.get(code=MALMO),
        role=StaffRole.CASE_HANDLER,
        bodies=[body],
    )
    return user


@pytest.fixture
def world():
    """Malmö's street department's report (to the inbox), one of its reports
    delivered to an outside webhook, the property department's, and Lund's."""
    street = make_report(MALMO, title="Släckt lykta")
    make_delivery(street, inbox(MALMO), DeliveryState.DELIVERED)
    webhook = Connection.objects.create(
        body=kommun_body(MALMO),
        name="Gatukontorets ärendesystem",
        kind=ConnectionKind.WEBHOOK,
        endpoint="https://example.org/hook",
    )
    outside = make_report(MALMO, title="Hål i gatan")
    make_delivery(outside, webhook, DeliveryState.DELIVERED, external_id="EXT-991")
    property_body = second_body()
    building = make_report(MALMO, title="Klotter på skolan", body=property_body)
    lund = make_report(LUND, title="Lunds lykta")
    return {
        "street": street,
        "outside": outside,
        "building": building,
        "lund": lund,
        "property_body": property_body,
    }


def unchanged(report: Report) -> bool:
    fresh = Report.objects.get(pk=report.pk)
    return (
        fresh.status == report.status
        and fresh.priority == report.priority
        and fresh.assigned_to_id == report.assigned_to_id
        and not ReportEvent.objects.filter(report=report).exists()
    )


@pytest.mark.parametrize(
    "role", [StaffRole.ADMIN, StaffRole.CONTACT_CENTRE, StaffRole.CASE_HANDLER]
)
def test_lunds_staff_get_404_for_a_malmo_report_and_nothing_is_revealed(
    client, world, role
):
    as_user(client, staff_user("lund-personal", LUND, role))
    report = world["street"]
    for path in (f"/admin/inbox/{report.pk}/",):
        response = client.get(path)
        assert response.status_code == 404
        assert "Släckt lykta" not in response.content.decode()
    for action, data in (
        ("status", {"status": ReportStatus.FIXED, "note": "Klart"}),
        ("note", {"note-note": "Intern"}),
        ("priority", {"priority-priority": ReportPriority.URGENT}),
        ("assign", {"assign-assigned_to": ""}),
    ):
        response = client.post(f"/admin/inbox/{report.pk}/", {"action": action, **data})
        assert response.status_code == 404
    assert unchanged(report)
    listing = client.get("/admin/inbox/", {"q": "lykta"}).content.decode()
    assert "Släckt lykta" not in listing and "Lunds lykta" in listing


def test_the_contact_centre_sees_every_report_of_the_kommun_whatever_its_channel(
    client, world
):
    as_user(client, staff_user("kundcenter", MALMO, StaffRole.CONTACT_CENTRE))
    listing = client.get("/admin/inbox/").content.decode()
    for title in ("Släckt lykta", "Hål i gatan", "Klotter på skolan"):
        assert title in listing
    assert "Lunds lykta" not in listing

    page = client.get(f"/admin/inbox/{world['outside'].pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Gatukontorets ärendesystem" in html and "EXT-991" in html
    # An internal note is offered; a body's status, priority, assignment not.
    assert 'name="note-note"' in html
    assert 'value="status"' not in html and 'name="priority-priority"' not in html


def test_the_contact_centre_cannot_change_a_bodys_status(client, world):
    as_user(client, staff_user("kundcenter", MALMO, StaffRole.CONTACT_CENTRE))
    report = world["street"]
    response = client.post(
        f"/admin/inbox/{report.pk}/", {"status": ReportStatus.FIXED, "note": "Klart"}
    )
    assert response.status_code == 403
    assert "This report&#x27;s status is not yours to change." in (
        response.content.decode()
    )
    assert unchanged(report)


def test_a_handler_works_their_bodys_reports_only(client, world):
    street_handler = handler_of("gata", world["street"].body)
    as_user(client, street_handler)
    listing = client.get("/admin/inbox/").content.decode()
    assert "Släckt lykta" in listing and "Hål i gatan" in listing
    assert "Klotter på skolan" not in listing

    building = world["building"]
    assert client.get(f"/admin/inbox/{building.pk}/").status_code == 404
    response = client.post(
        f"/admin/inbox/{building.pk}/",
        {"status": ReportStatus.FIXED, "note": "Inte vårt, men klart"},
    )
    assert response.status_code == 404
    assert unchanged(building)

    street = world["street"]
    response = client.post(
        f"/admin/inbox/{street.pk}/", {"status": ReportStatus.IN_PROGRESS}
    )
    assert response.status_code == 302
    assert Report.objects.get(pk=street.pk).status == ReportStatus.IN_PROGRESS


def test_a_handler_who_also_answers_calls_sees_but_cannot_change_another_body(
    client, world
):
    """Seeing a report (contact centre) is not working it: a clear refusal."""
    user = handler_of("gata-och-kundcenter", world["street"].body)
    staff_membership_grant(
        user=user,
        municipality=Municipality.objects.get(code=MALMO),
        role=StaffRole.CONTACT_CENTRE,
    )
    as_user(client, user)
    building = world["building"]
    assert client.get(f"/admin/inbox/{building.pk}/").status_code == 200
    response = client.post(
        f"/admin/inbox/{building.pk}/",
        {"status": ReportStatus.FIXED, "note": "Klart"},
    )
    assert response.status_code == 403
    assert response.context["form"].non_field_errors() == [
        "This report's status is not yours to change."
    ]
    response = client.post(
        f"/admin/inbox/{building.pk}/",
        {"action": "priority", "priority-priority": ReportPriority.URGENT},
    )
    assert response.status_code == 403
    assert unchanged(building)


@pytest.mark.parametrize("who", ["admin", "superuser"])
def test_administrators_work_every_report_of_their_scope(client, world, who):
    user = (
        superuser()
        if who == "superuser"
        else staff_user("malmo-admin", MALMO, StaffRole.ADMIN)
    )
    as_user(client, user)
    building = world["building"]
    response = client.post(
        f"/admin/inbox/{building.pk}/",
        {"action": "priority", "priority-priority": ReportPriority.HIGH},
    )
    assert response.status_code == 302
    assert Report.objects.get(pk=building.pk).priority == ReportPriority.HIGH
    lund_visible = client.get(f"/admin/inbox/{world['lund'].pk}/").status_code
    assert lund_visible == (200 if who == "superuser" else 404)


def test_a_body_with_its_own_case_system_changes_status_here_and_it_is_told(
    client, world
):
    """Its handler changes the status here too; the case system is told of it
    through the outbox (an update delivery), and a report of the inbox is not."""
    outside, street = world["outside"], world["street"]
    as_user(client, handler_of("gata", outside.body))
    html = client.get(f"/admin/inbox/{outside.pk}/").content.decode()
    assert "a status or reply saved here is sent to it too" in html
    assert 'value="status"' in html and 'name="priority-priority"' in html
    response = client.post(
        f"/admin/inbox/{outside.pk}/", {"status": ReportStatus.FIXED, "note": "Klart"}
    )
    assert response.status_code == 302
    assert Report.objects.get(pk=outside.pk).status == ReportStatus.FIXED
    (update,) = Delivery.objects.filter(report=outside, kind=DeliveryKind.UPDATE)
    assert update.connection.kind == ConnectionKind.WEBHOOK
    assert update.event.note == "Klart"
    response = client.post(
        f"/admin/inbox/{street.pk}/", {"status": ReportStatus.FIXED, "note": "Klart"}
    )
    assert response.status_code == 302
    assert not Delivery.objects.filter(report=street, kind=DeliveryKind.UPDATE)
