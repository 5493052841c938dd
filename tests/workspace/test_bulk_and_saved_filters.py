"""The inbox's action bar (status and assignment of many reports at once, each
through its own service) and saved filters (each user's own)."""

import html

import pytest
from django.contrib.auth import get_user_model

from municipalities.choices import BodyKind, StaffRole
from municipalities.models import AuditEntry, Body, Municipality
from municipalities.services import staff_membership_grant
from reports.choices import EventKind, ReportStatus
from reports.models import Report, ReportEvent
from tests.support.casework import LUND, MALMO, as_user, make_report
from tests.support.people import staff_user
from workspace.models import SavedFilter

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120, func_only=True)]


@pytest.fixture
def malmo_admin():
    return staff_user("malmo-admin", MALMO, StaffRole.ADMIN)


@pytest.fixture
def reports():
    return {
        "a": make_report(MALMO, title="Första lyktan"),
        "b": make_report(MALMO, title="Andra lyktan"),
        "lund": make_report(LUND, title="Lunds lykta"),
    }


def messages_of(response) -> list[str]:
    """The messages as the user reads them (Wagtail's are escaped HTML)."""
    return [html.unescape(str(m)).strip() for m in response.wsgi_request._messages]


# --- the action bar -------------------------------------------------------------------


def test_the_inbox_offers_a_checkbox_per_report_and_an_action_bar(
    client, malmo_admin, reports
):
    as_user(client, malmo_admin)
    html = client.get("/admin/inbox/").content.decode()
    assert 'data-controller="w-bulk"' in html
    assert 'data-w-bulk-target="all"' in html
    assert 'aria-label="Select every report on this page"' in html
    for key in ("a", "b"):
        report = reports[key]
        assert f'name="reports" value="{report.pk}" form="inbox-bulk"' in html, key
        assert f'aria-label="Select report #{report.pk} {report.title}"' in html
    assert f'value="{reports["lund"].pk}" form="inbox-bulk"' not in html
    assert 'id="inbox-bulk"' in html and 'name="action" value="assign"' in html


def test_contact_centre_agents_get_no_action_bar(client, reports):
    as_user(client, staff_user("agent", MALMO, StaffRole.CONTACT_CENTRE))
    html = client.get("/admin/inbox/").content.decode()
    assert 'id="inbox-bulk"' not in html and 'name="reports"' not in html
    response = client.post(
        "/admin/inbox/bulk/",
        {"reports": [reports["a"].pk], "action": "status", "status": "fixed"},
    )
    assert response.status_code in (302, 403)  # Wagtail: back to the dashboard
    assert Report.objects.get(pk=reports["a"].pk).status == ReportStatus.OPEN


def test_a_bulk_status_change_changes_the_allowed_and_names_the_refused(
    client, malmo_admin, reports
):
    as_user(client, malmo_admin)
    a, b, lund = reports["a"], reports["b"], reports["lund"]
    response = client.post(
        "/admin/inbox/bulk/",
        {
            "reports": [a.pk, b.pk, lund.pk],
            "action": "status",
            "status": ReportStatus.FIXED,
            "reply": "Lagat i hela kvarteret.",
            "query": "status=open",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/inbox/?status=open"
    said = messages_of(response)
    assert "2 reports changed." in said
    assert (
        f"Not changed: #{lund.pk}: This report's status is not yours to change." in said
    )
    for report in (a, b):
        report.refresh_from_db()
        assert report.status == ReportStatus.FIXED
        event = ReportEvent.objects.get(report=report, kind=EventKind.STATUS)
        assert (
            event.note == "Lagat i hela kvarteret." and event.actor_user == malmo_admin
        )
    lund.refresh_from_db()
    assert lund.status == ReportStatus.OPEN
    assert not ReportEvent.objects.filter(report=lund).exists()
    # One audit entry per changed report, none for the refused.
    assert sorted(
        AuditEntry.objects.filter(action="report.status").values_list(
            "object_id", flat=True
        )
    ) == sorted([str(a.pk), str(b.pk)])


def test_a_report_refused_in_the_middle_leaves_the_others_changed(
    client, malmo_admin, reports
):
    """A report the user may not change (another kommun's, here) is refused;
    the ones before and after it are changed."""
    middle = reports["lund"]
    as_user(client, malmo_admin)
    response = client.post(
        "/admin/inbox/bulk/",
        {
            "reports": [reports["a"].pk, middle.pk, reports["b"].pk],
            "action": "status",
            "status": ReportStatus.IN_PROGRESS,
        },
    )
    assert "2 reports changed." in messages_of(response)
    assert Report.objects.get(pk=middle.pk).status == ReportStatus.OPEN
    assert Report.objects.get(pk=reports["b"].pk).status == ReportStatus.IN_PROGRESS


def test_bulk_assignment_assigns_where_the_handler_may_and_refuses_elsewhere(
    client, malmo_admin, reports
):
    gatukontoret = Body.objects.create(
        name="Gatukontoret", slug="gatukontoret", kind=BodyKind.MUNICIPAL
    )
    malmo = Municipality.objects.get(code=MALMO)
    gatukontoret.municipalities.add(malmo)
    theirs = make_report(MALMO, title="Gatukontorets lykta", body=gatukontoret)
    handler = get_user_model().objects.create_user(username="gata")
    staff_membership_grant(
        user=handler,
        municipality=malmo,
        role=StaffRole.CASE_HANDLER,
        bodies=[gatukontoret],
    )
    as_user(client, malmo_admin)
    response = client.post(
        "/admin/inbox/bulk/",
        {
            "reports": [theirs.pk, reports["a"].pk],
            "action": "assign",
            "assignee": handler.pk,
        },
    )
    said = messages_of(response)
    assert "1 report changed." in said
    assert (
        f"Not changed: #{reports['a'].pk}: Only a case handler of the report's "
        "body can be assigned." in said
    )
    assert Report.objects.get(pk=theirs.pk).assigned_to == handler
    assert Report.objects.get(pk=reports["a"].pk).assigned_to is None
    assert AuditEntry.objects.filter(action="report.assign").count() == 1

    # Again: already so.
    response = client.post(
        "/admin/inbox/bulk/",
        {"reports": [theirs.pk], "action": "assign", "assignee": handler.pk},
    )
    assert "1 report was already so." in messages_of(response)
    # "No one" takes the assignment away.
    response = client.post(
        "/admin/inbox/bulk/",
        {"reports": [theirs.pk], "action": "assign", "assignee": "none"},
    )
    assert "1 report changed." in messages_of(response)
    assert Report.objects.get(pk=theirs.pk).assigned_to is None


def test_bad_bulk_input_is_refused_with_a_message_and_changes_nothing(
    client, malmo_admin, reports
):
    as_user(client, malmo_admin)
    for data, message in (
        ({"action": "status", "status": "fixed"}, "Choose one or more reports first."),
        ({"reports": [reports["a"].pk], "action": "status"}, "Choose the new status."),
        (
            {"reports": [reports["a"].pk], "action": "assign"},
            "Choose whom to assign the reports to.",
        ),
        (
            {"reports": ["x"], "action": "status", "status": "fixed"},
            "Select a valid choice. x is not one of the available choices.",
        ),
        (
            {"reports": ["9" * 30], "action": "status", "status": "fixed"},
            None,
        ),
    ):
        response = client.post("/admin/inbox/bulk/", data)
        assert response.status_code == 302
        if message:
            assert message in messages_of(response)
    assert not ReportEvent.objects.filter(kind=EventKind.STATUS).exists()
    assert client.get("/admin/inbox/bulk/").status_code == 405


# --- saved filters ---------------------------------------------------------------------


def test_a_user_saves_lists_uses_and_deletes_their_own_filters(client, malmo_admin):
    as_user(client, malmo_admin)
    page = client.get(
        "/admin/inbox/?status=open&status=in_progress&p=2"
    ).content.decode()
    assert 'name="query" value="p=2' not in page
    assert 'value="status=open&amp;status=in_progress"' in page
    response = client.post(
        "/admin/inbox/saved-filters/",
        {"name": "Mina öppna", "query": "status=open&status=in_progress&p=2"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/inbox/?status=open&status=in_progress"
    saved = SavedFilter.objects.get(user=malmo_admin)
    assert saved.name == "Mina öppna"
    assert saved.query == "status=open&status=in_progress"

    html = client.get("/admin/inbox/").content.decode()
    assert (
        '<a href="/admin/inbox/?status=open&amp;status=in_progress">Mina öppna</a>'
        in html
    )

    # The same name again replaces it.
    client.post(
        "/admin/inbox/saved-filters/", {"name": "Mina öppna", "query": "q=lykta"}
    )
    assert SavedFilter.objects.get(user=malmo_admin).query == "q=lykta"

    response = client.post("/admin/inbox/saved-filters/", {"name": "  ", "query": ""})
    assert "Name the filters." in messages_of(response)
    assert SavedFilter.objects.count() == 1

    response = client.post(f"/admin/inbox/saved-filters/{saved.pk}/delete/")
    assert response.status_code == 302
    assert not SavedFilter.objects.exists()


def test_another_users_saved_filters_are_never_shown_nor_deletable(client, malmo_admin):
    mine = SavedFilter.objects.create(
        user=malmo_admin, name="Malmö-adminens filter", query="status=open"
    )
    colleague = staff_user("kollega", MALMO, StaffRole.ADMIN)
    as_user(client, colleague)
    html = client.get("/admin/inbox/").content.decode()
    assert "Malmö-adminens filter" not in html and "Saved filters" not in html
    response = client.post(f"/admin/inbox/saved-filters/{mine.pk}/delete/")
    assert response.status_code == 404
    assert SavedFilter.objects.filter(pk=mine.pk).exists()
    as_user(client, staff_user("lund-admin", LUND, StaffRole.ADMIN))
    assert "Malmö-adminens filter" not in client.get("/admin/inbox/").content.decode()
