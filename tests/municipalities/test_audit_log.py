"""The audit log: every staff action writes one entry (who, what, when, before
and after) in the action's own transaction; kommun administrators read their own
kommun's entries on a filterable screen and export them as CSV; nobody else's."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from casehub.choices import DeliveryState
from infra.moments import shown_zone
from municipalities.choices import ConnectionKind, StaffRole
from municipalities.models import (
    AuditEntry,
    Category,
    Connection,
    Municipality,
    Route,
)
from reports.choices import ReportPriority, ReportStatus
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
from workspace.models import ResponseTemplate
from workspace.services import (
    StaleReport,
    report_assign,
    report_note_add,
    report_priority_set,
    report_status_change,
    report_version,
)

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120, func_only=True)]


@pytest.fixture
def malmo_admin():
    return staff_user("malmo-admin", MALMO, StaffRole.ADMIN)


@pytest.fixture
def lund_admin():
    return staff_user("lund-admin", LUND, StaffRole.ADMIN)


def only_entry(**filters) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(**filters))
    assert len(entries) == 1, entries
    return entries[0]


# --- the report actions -------------------------------------------------------------


def test_each_report_action_writes_one_entry_with_before_and_after(malmo_admin):
    report = make_report(MALMO, title="Trasig lykta")
    handler = staff_user("gata", MALMO, StaffRole.CASE_HANDLER)

    report_status_change(
        actor=malmo_admin,
        report_id=report.pk,
        status=ReportStatus.IN_PROGRESS,
        reply="Vi tittar på det.",
    )
    entry = only_entry(action="report.status")
    assert entry.actor == malmo_admin and entry.actor_name == "malmo-admin"
    assert entry.municipality.code == MALMO
    assert entry.object_type == "reports.report" and entry.object_id == str(report.pk)
    assert entry.before == {"status": ReportStatus.OPEN.value}
    assert entry.after == {
        "status": ReportStatus.IN_PROGRESS.value,
        "reply": "Vi tittar på det.",
    }

    report_note_add(actor=malmo_admin, report_id=report.pk, note="Ring Kalle.")
    assert only_entry(action="report.note").after == {"note": "Ring Kalle."}

    report_priority_set(
        actor=malmo_admin, report_id=report.pk, priority=ReportPriority.URGENT
    )
    entry = only_entry(action="report.priority")
    assert entry.before == {"priority": ReportPriority.NORMAL.value}
    assert entry.after == {"priority": ReportPriority.URGENT.value}

    report_assign(actor=malmo_admin, report_id=report.pk, assignee_id=handler.pk)
    entry = only_entry(action="report.assign")
    assert entry.before == {"assigned_to": None}
    assert entry.after == {"assigned_to": "gata"}

    # Nothing changed: nothing recorded.
    report_priority_set(
        actor=malmo_admin, report_id=report.pk, priority=ReportPriority.URGENT
    )
    assert AuditEntry.objects.count() == 4


def test_an_action_that_is_refused_or_rolled_back_writes_nothing(malmo_admin):
    report = make_report(MALMO, title="Trasig lykta")
    version = report_version(report.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        report_note_add(actor=malmo_admin, report_id=report.pk, note="Ring Kalle.")
        raise RuntimeError("the request failed after the action")
    with pytest.raises(ValidationError):
        report_assign(
            actor=malmo_admin, report_id=report.pk, assignee_id=malmo_admin.pk
        )
    report_note_add(actor=malmo_admin, report_id=report.pk, note="Ny anteckning.")
    with pytest.raises(StaleReport):
        report_priority_set(
            actor=malmo_admin,
            report_id=report.pk,
            priority=ReportPriority.HIGH,
            version=version,
        )
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["report.note"]


def test_an_audit_entry_is_never_changed_or_deleted(malmo_admin):
    report = make_report(MALMO, title="Trasig lykta")
    report_note_add(actor=malmo_admin, report_id=report.pk, note="Ring Kalle.")
    entry = AuditEntry.objects.get()
    entry.after = {"note": "något annat"}
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    assert AuditEntry.objects.get().after == {"note": "Ring Kalle."}


# --- the case hub's actions --------------------------------------------------------------


def test_resend_and_try_again_now_are_recorded(client, malmo_admin):
    report = make_report(MALMO, title="Trasig lykta")
    delivery = make_delivery(report, inbox(MALMO), DeliveryState.DEAD, attempts=9)
    as_user(client, malmo_admin)
    assert client.post(f"/admin/deliveries/{delivery.pk}/resend/").status_code == 302
    entry = only_entry(action="delivery.resend")
    assert entry.actor == malmo_admin and entry.municipality.code == MALMO
    assert entry.before == {"state": "dead", "attempts": 9}
    assert entry.after == {"state": "pending"}

    connection = inbox(MALMO)
    assert client.post(f"/admin/connections/retry/{connection.pk}/").status_code == 302
    entry = only_entry(action="connection.retry")
    assert entry.object_id == str(connection.pk)
    assert entry.municipality.code == MALMO


# --- the set-up screens ----------------------------------------------------------------


def test_set_up_screens_record_create_edit_and_delete_with_the_changed_fields(
    client, malmo_admin
):
    as_user(client, malmo_admin)
    body = kommun_body(MALMO)
    response = client.post(
        f"/admin/bodies/edit/{body.pk}/",
        {
            "name": "Malmö stad",
            "slug": body.slug,
            "kind": "municipal",
            "municipalities": [Municipality.objects.get(code=MALMO).pk],
        },
    )
    assert response.status_code == 302
    entry = only_entry(action="edit", object_type="municipalities.body")
    assert entry.before == {"name": "Malmö kommun"}
    assert entry.after == {"name": "Malmö stad"}
    assert entry.municipality.code == MALMO and entry.actor == malmo_admin

    category = Category.objects.create(name="Testkategori", slug="testkategori")
    response = client.post(
        "/admin/routes/new/",
        {
            "municipality": Municipality.objects.get(code=MALMO).pk,
            "category": category.pk,
            "body": body.pk,
            "connection": body.connections.first().pk,
        },
    )
    assert response.status_code == 302
    route = Route.objects.get(category=category)
    entry = only_entry(action="create", object_type="municipalities.route")
    assert entry.object_id == str(route.pk) and entry.before == {}
    assert entry.after["category"] == "Testkategori"
    assert entry.after["body"] == "Malmö stad"

    spare = Connection.objects.create(
        body=body,
        name="Reserv",
        kind=ConnectionKind.EMAIL,
        email="gata@example.org",
        secret_env="KNUTPUNKT_SECRET_MALMO",
    )
    assert client.post(f"/admin/connections/delete/{spare.pk}/").status_code == 302
    entry = only_entry(action="delete", object_type="municipalities.connection")
    assert entry.object_id == str(spare.pk)
    assert entry.object_label == "Malmö stad: Reserv"
    assert entry.before["email"] == "gata@example.org"
    # The variable's name, never a secret's value.
    assert entry.before["secret_env"] == "KNUTPUNKT_SECRET_MALMO"
    assert entry.after == {}


def test_response_templates_are_recorded(client, malmo_admin):
    as_user(client, malmo_admin)
    malmo = Municipality.objects.get(code=MALMO)
    form = {
        "municipality": malmo.pk,
        "name": "Lagat",
        "category": "",
        "status": "fixed",
        "text": "{rapport} är lagad.",
    }
    assert client.post("/admin/response_templates/new/", form).status_code == 302
    template = ResponseTemplate.objects.get()
    form["text"] = "{rapport} är lagad nu."
    response = client.post(f"/admin/response_templates/edit/{template.pk}/", form)
    assert response.status_code == 302
    response = client.post(f"/admin/response_templates/delete/{template.pk}/")
    assert response.status_code == 302
    entries = list(
        AuditEntry.objects.filter(object_type="workspace.responsetemplate").order_by(
            "pk"
        )
    )
    assert [e.action for e in entries] == ["create", "edit", "delete"]
    assert entries[1].before == {"text": "{rapport} är lagad."}
    assert entries[1].after == {"text": "{rapport} är lagad nu."}
    assert all(e.municipality == malmo for e in entries)


def test_a_categorys_questions_are_part_of_its_change(client):
    admin = superuser()
    as_user(client, admin)
    category = Category.objects.create(name="Testkategori", slug="testkategori")
    response = client.post(
        f"/admin/categories/edit/{category.pk}/",
        {
            "name": "Testkategori",
            "slug": "testkategori",
            "sort_order": "0",
            "is_active": "on",
            "body": "",
            "questions-TOTAL_FORMS": "1",
            "questions-INITIAL_FORMS": "0",
            "questions-MIN_NUM_FORMS": "0",
            "questions-MAX_NUM_FORMS": "1000",
            "questions-0-code": "hojd",
            "questions-0-label": "Hur hög?",
            "questions-0-kind": "text",
            "questions-0-help_text": "",
            "questions-0-choices": "[]",
            "questions-0-ORDER": "1",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    entry = only_entry(action="edit", object_type="municipalities.category")
    assert entry.before == {"questions": []}
    [question] = entry.after["questions"]
    assert question["code"] == "hojd" and question["label"] == "Hur hög?"
    assert entry.municipality is None  # shared: superusers read it


# --- the screen ----------------------------------------------------------------------------


@pytest.fixture
def both_kommuner(malmo_admin, lund_admin):
    """One entry in Malmö, one in Lund."""
    malmo = make_report(MALMO, title="Malmös lykta")
    lund = make_report(LUND, title="Lunds lykta")
    report_note_add(actor=malmo_admin, report_id=malmo.pk, note="Malmös anteckning")
    report_priority_set(
        actor=lund_admin, report_id=lund.pk, priority=ReportPriority.HIGH
    )
    return malmo, lund


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


def test_a_kommun_admin_reads_their_own_kommuns_entries_only(
    client, both_kommuner, lund_admin
):
    as_user(client, lund_admin)
    page = client.get("/admin/audit-log/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Lunds lykta" in html and "Set a report&#x27;s priority" in html
    assert "Priority: Normal → High" in html
    assert "Malmös" not in html and "malmo-admin" not in html
    assert "Audit log" in client.get("/admin/").content.decode()

    rows = csv_rows(client.get("/admin/audit-log/?export=csv"))
    assert rows[0] == ["When", "Who", "Action", "Object", "Before → after", "Kommun"]
    assert len(rows) == 2
    assert rows[1][1:4] == [
        "lund-admin",
        "Set a report's priority",
        f"Report: #{both_kommuner[1].pk} Lunds lykta",
    ]
    assert rows[1][0].endswith("+01:00") or rows[1][0].endswith("+02:00")
    assert "Malmö" not in str(rows)


def test_case_handlers_and_agents_have_no_audit_log(client, both_kommuner):
    for role in (StaffRole.CASE_HANDLER, StaffRole.CONTACT_CENTRE, StaffRole.EDITOR):
        as_user(client, staff_user(f"staff-{role}", MALMO, role))
        assert client.get("/admin/audit-log/").status_code in (302, 403), role
        assert client.get("/admin/audit-log/?export=csv").status_code in (302, 403)
        assert client.get("/admin/audit-log/results/").status_code in (302, 403)
        assert "/admin/audit-log/" not in client.get("/admin/").content.decode()


def test_a_superuser_reads_every_kommun_and_filters_by_kommun(client, both_kommuner):
    as_user(client, superuser())
    html = client.get("/admin/audit-log/").content.decode()
    assert "Malmös lykta" in html and "Lunds lykta" in html
    malmo = Municipality.objects.get(code=MALMO)
    rows = csv_rows(client.get(f"/admin/audit-log/?municipality={malmo.pk}&export=csv"))
    assert [row[1] for row in rows[1:]] == ["malmo-admin"]


def test_the_filters_narrow_the_screen_and_the_csv(client, both_kommuner, malmo_admin):
    malmo, _lund = both_kommuner
    report_priority_set(
        actor=malmo_admin, report_id=malmo.pk, priority=ReportPriority.URGENT
    )
    handler = staff_user("gata", MALMO, StaffRole.CASE_HANDLER)
    report_assign(actor=malmo_admin, report_id=malmo.pk, assignee_id=handler.pk)
    report_note_add(actor=handler, report_id=malmo.pk, note="Handläggarens anteckning")
    as_user(client, malmo_admin)

    def actions(query: str) -> list[str]:
        return [
            row[2]
            for row in csv_rows(client.get(f"/admin/audit-log/?{query}&export=csv"))[1:]
        ]

    assert actions("") == [
        "Added an internal note",
        "Assigned a report",
        "Set a report's priority",
        "Added an internal note",
    ]
    assert actions("action=report.priority") == ["Set a report's priority"]
    assert actions(f"actor={handler.pk}") == ["Added an internal note"]
    assert actions("object_type=reports.report") == actions("")
    assert actions("object_type=municipalities.route") == []
    page = client.get("/admin/audit-log/?action=report.assign").content.decode()
    assert "Assigned to: – → gata" in page
    # The "who" filter offers the kommun's own staff only.
    page = client.get("/admin/audit-log/").content.decode()
    assert "lund-admin" not in page


def test_a_period_filter_and_a_reversed_period(client, both_kommuner, malmo_admin):
    as_user(client, malmo_admin)
    entry = AuditEntry.objects.get(actor=malmo_admin)
    day = entry.at.astimezone(shown_zone()).date()
    yesterday = day.fromordinal(day.toordinal() - 1)
    tomorrow = day.fromordinal(day.toordinal() + 1)

    def count(query):
        return len(csv_rows(client.get(f"/admin/audit-log/?{query}&export=csv"))) - 1

    assert count(f"at_from={day}&at_to={day}") == 1
    assert count(f"at_from={tomorrow}") == 0
    assert count(f"at_to={yesterday}") == 0

    page = client.get(f"/admin/audit-log/?at_from={tomorrow}&at_to={yesterday}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "The period ends before it begins" in html
    assert "Malmös lykta" not in html
    assert count(f"at_from={tomorrow}&at_to={yesterday}") == 0
