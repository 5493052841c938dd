"""A report's screen: each action through workspace.services, who acted recorded;
internal notes never public, never e-mailed, never sent to public sockets;
priority, assignment, response templates and conflicts."""

import os

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.exceptions import PermissionDenied, ValidationError

from config.asgi import application
from municipalities.choices import StaffRole
from municipalities.models import Municipality
from municipalities.services import staff_membership_grant
from reports.choices import ActorKind, EventKind, ReportPriority, ReportStatus
from reports.models import Report, ReportEvent
from tests.support.casehub import confirmed_report, malmo_body
from tests.support.casework import MALMO, as_user
from tests.support.people import staff_user
from workspace.models import ResponseTemplate
from workspace.services import (
    StaleReport,
    report_assign,
    report_note_add,
    report_priority_set,
    report_status_change,
    report_version,
)

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60, func_only=True)]

SECRET = "Grannen ringde: han är den som har kört på stolpen."


@pytest.fixture
def handler():
    return staff_user("gata", MALMO, StaffRole.CASE_HANDLER)


@pytest.fixture
def report():
    """A signed-in reporter's report, followed by the reporter, in Malmö's
    inbox."""
    return confirmed_report()


# --- internal notes ---------------------------------------------------------------


def test_an_internal_note_is_recorded_with_who_wrote_it(client, handler, report):
    as_user(client, handler)
    response = client.post(
        f"/admin/inbox/{report.pk}/", {"action": "note", "note-note": SECRET}
    )
    assert response.status_code == 302
    note = ReportEvent.objects.get(report=report, kind=EventKind.NOTE)
    assert note.note == SECRET and note.is_public is False
    assert note.actor_kind == ActorKind.STAFF and note.actor_user == handler
    page = client.get(f"/admin/inbox/{report.pk}/").content.decode()
    assert SECRET in page
    assert 'class="event event-note internal"' in page


def test_an_empty_internal_note_is_refused_at_the_field(client, handler, report):
    as_user(client, handler)
    response = client.post(
        f"/admin/inbox/{report.pk}/", {"action": "note", "note-note": "   "}
    )
    assert response.status_code == 200
    assert "note" in response.context["note_form"].errors
    assert not ReportEvent.objects.filter(report=report, kind=EventKind.NOTE).exists()


def test_an_internal_note_is_not_on_the_public_page_mina_sidor_or_map(
    client, handler, report
):
    report_note_add(actor=handler, report_id=report.pk, note=SECRET)
    public = client.get(f"/rapporter/{report.pk}/")
    assert public.status_code == 200
    assert SECRET not in public.content.decode()
    client.force_login(report.reporter)
    mine = client.get("/mina-sidor/")
    assert mine.status_code == 200 and SECRET not in mine.content.decode()
    api = client.get(
        "/api/v1/reports",
        {"bbox": "12.9,55.5,13.1,55.7", "zoom": "17"},
    )
    assert api.status_code == 200
    assert str(report.pk) in api.content.decode() and SECRET not in api.content.decode()


def test_an_internal_note_is_never_emailed_to_followers(
    handler, report, smtp_server, django_capture_on_commit_callbacks
):
    assert report.subscriptions.filter(email="anna@example.org").exists()
    with django_capture_on_commit_callbacks(execute=True):
        report_note_add(actor=handler, report_id=report.pk, note=SECRET)
    assert smtp_server.bodies_to("anna@example.org") == []
    # A public change afterwards is told, and still without the note.
    with django_capture_on_commit_callbacks(execute=True):
        report_status_change(
            actor=handler,
            report_id=report.pk,
            status=ReportStatus.IN_PROGRESS,
            reply="Vi lagar den i veckan.",
        )
    (mail,) = smtp_server.bodies_to("anna@example.org")
    assert "Vi lagar den i veckan." in mail and SECRET not in mail


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="in-process sockets need the embedded profile's shared test database",
)
def test_an_internal_note_is_never_sent_to_the_reports_watchers(
    handler, report, django_capture_on_commit_callbacks
):
    def note_then_reply():
        with django_capture_on_commit_callbacks(execute=True):
            report_note_add(actor=handler, report_id=report.pk, note=SECRET)
            report_priority_set(
                actor=handler, report_id=report.pk, priority=ReportPriority.URGENT
            )
        with django_capture_on_commit_callbacks(execute=True):
            report_status_change(
                actor=handler,
                report_id=report.pk,
                status=ReportStatus.IN_PROGRESS,
                reply="Vi lagar den i veckan.",
            )

    async def scenario():
        watcher = WebsocketCommunicator(
            application,
            f"/ws/reports/{report.pk}/",
            headers=[(b"host", b"localhost"), (b"origin", b"http://localhost")],
        )
        connected, _ = await watcher.connect()
        assert connected
        await sync_to_async(note_then_reply)()
        # The first frame the watcher gets is the public reply, not the note.
        frame = await watcher.receive_json_from(timeout=10)
        silent = await watcher.receive_nothing(timeout=0.3)
        await watcher.disconnect()
        return frame, silent

    frame, silent = async_to_sync(scenario)()
    assert frame["kind"] == EventKind.STATUS and frame["status"] == "in_progress"
    assert SECRET not in str(frame) and silent is True


# --- priority and assignment -----------------------------------------------------


def test_priority_is_set_and_recorded_internally(client, handler, report):
    as_user(client, handler)
    response = client.post(
        f"/admin/inbox/{report.pk}/",
        {"action": "priority", "priority-priority": ReportPriority.URGENT},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.priority == ReportPriority.URGENT
    event = ReportEvent.objects.get(report=report, kind=EventKind.PRIORITY)
    assert event.is_public is False and event.actor_user == handler
    assert event.data == {"from": "normal", "to": "urgent"}
    assert "Urgent" not in client.get(f"/rapporter/{report.pk}/").content.decode()


def test_only_a_case_handler_of_the_reports_body_can_be_assigned(
    client, handler, report
):
    admin = staff_user("malmo-admin", MALMO, StaffRole.ADMIN)
    other_body_handler = staff_user("park", MALMO, StaffRole.CASE_HANDLER)
    park = malmo_body().__class__.objects.create(
        name="Parkförvaltningen", slug="malmo-park", kind="municipal"
    )
    park.municipalities.add(Municipality.objects.get(code=MALMO))
    staff_membership_grant(
        user=other_body_handler,
        municipality=Municipality.objects.get(code=MALMO),
        role=StaffRole.CASE_HANDLER,
        bodies=[park],
    )
    as_user(client, admin)
    page = client.get(f"/admin/inbox/{report.pk}/")
    choices = [
        str(pk) for pk, _ in page.context["assign_form"].fields["assigned_to"].choices
    ]
    assert str(handler.pk) in choices
    assert str(other_body_handler.pk) not in choices and str(admin.pk) not in choices

    refused = client.post(
        f"/admin/inbox/{report.pk}/",
        {"action": "assign", "assign-assigned_to": other_body_handler.pk},
    )
    assert refused.status_code == 200
    assert "assigned_to" in refused.context["assign_form"].errors
    with pytest.raises(ValidationError):
        report_assign(
            actor=admin, report_id=report.pk, assignee_id=other_body_handler.pk
        )
    report.refresh_from_db()
    assert report.assigned_to is None
    assert not ReportEvent.objects.filter(kind=EventKind.ASSIGNED).exists()

    done = client.post(
        f"/admin/inbox/{report.pk}/",
        {"action": "assign", "assign-assigned_to": handler.pk},
    )
    assert done.status_code == 302
    report.refresh_from_db()
    assert report.assigned_to == handler
    event = ReportEvent.objects.get(kind=EventKind.ASSIGNED)
    assert event.actor_user == admin and event.is_public is False
    mine = client.get("/admin/inbox/", {"assigned": "none"}).content.decode()
    assert f"/admin/inbox/{report.pk}/" not in mine
    as_user(client, handler)
    mine = client.get("/admin/inbox/", {"assigned": "me"}).content.decode()
    assert f"/admin/inbox/{report.pk}/" in mine


def test_a_contact_centre_agent_cannot_set_priority_or_assign(handler, report):
    agent = staff_user("kundcenter", MALMO, StaffRole.CONTACT_CENTRE)
    with pytest.raises(PermissionDenied):
        report_priority_set(
            actor=agent, report_id=report.pk, priority=ReportPriority.HIGH
        )
    with pytest.raises(PermissionDenied):
        report_assign(actor=agent, report_id=report.pk, assignee_id=handler.pk)
    report.refresh_from_db()
    assert report.priority == ReportPriority.NORMAL and report.assigned_to is None


# --- response templates ----------------------------------------------------------


def test_a_template_with_an_unknown_placeholder_is_refused_when_saved(client):
    admin = staff_user("malmo-admin", MALMO, StaffRole.ADMIN)
    as_user(client, admin)
    malmo = Municipality.objects.get(code=MALMO)
    form = {
        "municipality": malmo.pk,
        "name": "Åtgärdat",
        "category": "",
        "status": "fixed",
        "text": "Hej! {rapport} är lagad av {förvaltning}.",
    }
    response = client.post("/admin/response_templates/new/", form)
    assert response.status_code == 200
    errors = response.context["form"].errors["text"]
    assert errors == [
        "Unknown placeholder: {förvaltning}. Known: {rapport}, {kategori}, "
        "{kommun}, {status}."
    ]
    assert 'value="Åtgärdat"' in response.content.decode()  # what was typed
    assert not ResponseTemplate.objects.exists()

    for text in (
        "{kommun:>{x}}",
        "{kommun!r}",
        "{0}",
        "{}",
        "{kommun.namn}",
        "{kommun",
    ):
        form["text"] = text
        refused = client.post("/admin/response_templates/new/", form)
        assert refused.status_code == 200, text
        assert "text" in refused.context["form"].errors, text
    assert not ResponseTemplate.objects.exists()

    form["text"] = "Hej! {rapport} i {kommun} är nu: {status}. {{Klamrar}}"
    assert client.post("/admin/response_templates/new/", form).status_code == 302
    assert ResponseTemplate.objects.get().name == "Åtgärdat"


def test_a_kommun_admin_sees_their_own_kommuns_templates_only(client):
    malmo = Municipality.objects.get(code=MALMO)
    template = ResponseTemplate.objects.create(
        municipality=malmo, name="Malmös svar", text="Tack för {rapport}."
    )
    as_user(client, staff_user("lund-admin", "1281", StaffRole.ADMIN))
    assert (
        "Malmös svar" not in client.get("/admin/response_templates/").content.decode()
    )
    assert client.get(f"/admin/response_templates/edit/{template.pk}/").status_code in (
        302,
        403,
        404,
    )
    response = client.post(
        "/admin/response_templates/new/",
        {"municipality": malmo.pk, "name": "Intrång", "status": "", "text": "Hej"},
    )
    assert response.status_code == 200
    assert "municipality" in response.context["form"].errors
    assert ResponseTemplate.objects.count() == 1


def test_a_template_fills_the_public_reply(client, handler, report):
    template = ResponseTemplate.objects.create(
        municipality=report.municipality,
        name="Påbörjat",
        status=ReportStatus.IN_PROGRESS,
        text="Hej! Vi har börjat med {rapport} ({kategori}) i {kommun}: {status}.",
    )
    as_user(client, handler)
    page = client.get(f"/admin/inbox/{report.pk}/", {"template": template.pk})
    form = page.context["form"]
    assert form.initial["status"] == ReportStatus.IN_PROGRESS
    assert form.initial["note"] == (
        f"Hej! Vi har börjat med #{report.pk} {report.title} "
        f"({report.category.name}) i Malmö: In progress."
    )


# --- conflicts ---------------------------------------------------------------------


def test_a_stale_status_change_is_refused_and_told_what_changed(
    client, handler, report
):
    as_user(client, handler)
    page = client.get(f"/admin/inbox/{report.pk}/")
    version = page.context["form"].initial["version"]
    # Meanwhile a colleague closes it.
    colleague = staff_user("kollega", MALMO, StaffRole.CASE_HANDLER)
    report_status_change(
        actor=colleague,
        report_id=report.pk,
        status=ReportStatus.FIXED,
        reply="Lagad.",
        version=version,
    )
    response = client.post(
        f"/admin/inbox/{report.pk}/",
        {
            "status": ReportStatus.IN_PROGRESS,
            "note": "Vi börjar i morgon.",
            "version": version,
        },
    )
    assert response.status_code == 409
    report.refresh_from_db()
    assert report.status == ReportStatus.FIXED
    assert ReportEvent.objects.filter(report=report, actor_user=handler).count() == 0
    html = response.content.decode()
    assert 'id="meanwhile"' in html and "Lagad." in html and "kollega" in html
    form = response.context["form"]
    assert form.data["note"] == "Vi börjar i morgon."  # what was typed is kept
    assert form.data["version"] == str(report_version(report.pk))
    with pytest.raises(StaleReport) as stale:
        report_priority_set(
            actor=handler,
            report_id=report.pk,
            priority=ReportPriority.HIGH,
            version=version,
        )
    assert [e.note for e in stale.value.events] == ["Lagad."]
    assert Report.objects.get(pk=report.pk).priority == ReportPriority.NORMAL
