"""The workspace's inbox and report screen: each kommun's staff see their own
only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casehub.choices import DeliveryState
from municipalities.choices import ConnectionKind, StaffRole
from municipalities.models import Connection, Municipality
from reports.choices import ActorKind, EventKind, ReportPriority, ReportStatus
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
from tests.support.people import staff_user as staff
from tests.support.people import superuser
from workspace.models import ResponseTemplate


@pytest.fixture
def cases():
    """A dead delivery in Malmö and one in Lund, each to the kommun's inbox."""
    malmo = make_report(MALMO, title="Släckt lykta i Malmö")
    lund = make_report(LUND, title="Släckt lykta i Lund")
    return {
        MALMO: make_delivery(
            malmo, inbox(MALMO), DeliveryState.DEAD, attempts=9, last_error="boom"
        ),
        LUND: make_delivery(
            lund, inbox(LUND), DeliveryState.DEAD, attempts=9, last_error="boom"
        ),
    }


@pytest.fixture
def handler(client):
    return as_user(client, staff("malmo-handler-test", MALMO, StaffRole.CASE_HANDLER))


@pytest.mark.django_db
def test_the_inbox_lists_the_kommuns_confirmed_reports_of_every_channel_only(
    handler, cases
):
    unconfirmed = make_report(
        MALMO, title="Obekräftad rapport", status=ReportStatus.UNCONFIRMED
    )
    make_delivery(unconfirmed, inbox(MALMO))
    webhook = Connection.objects.create(
        body=kommun_body(MALMO),
        name="Ärendesystem",
        kind=ConnectionKind.WEBHOOK,
        endpoint="https://example.org/hook",
    )
    elsewhere = make_report(MALMO, title="Skickad till ärendesystemet")
    make_delivery(
        elsewhere, webhook, DeliveryState.DELIVERED, external_id="GATA-2026-17"
    )

    page = handler.get("/admin/inbox/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Släckt lykta i Malmö" in html
    assert f"/admin/inbox/{cases[MALMO].report_id}/" in html
    assert "Släckt lykta i Lund" not in html
    assert f"/admin/inbox/{cases[LUND].report_id}/" not in html
    assert "Obekräftad rapport" not in html
    # Every channel: a report delivered to a case system of its own is listed,
    # with its delivery's state and the case system's reference.
    assert "Skickad till ärendesystemet" in html
    assert "GATA-2026-17" in html
    # The reporter's details are not in the listing.
    assert "anna@example.org" not in html and "070-123 45 67" not in html
    assert "Inbox" in handler.get("/admin/").content.decode()

    fixed = handler.get("/admin/inbox/", {"status": "fixed"}).content.decode()
    assert "Släckt lykta i Malmö" not in fixed
    open_ = handler.get("/admin/inbox/", {"status": "open"}).content.decode()
    assert "Släckt lykta i Malmö" in open_


@pytest.mark.django_db
def test_a_superuser_sees_every_kommuns_inbox(client, cases):
    as_user(client, superuser())
    html = client.get("/admin/inbox/").content.decode()
    assert "Släckt lykta i Malmö" in html and "Släckt lykta i Lund" in html


@pytest.mark.django_db
def test_contact_details_show_only_with_the_reporters_consent(handler, cases):
    report = cases[MALMO].report
    html = handler.get(f"/admin/inbox/{report.pk}/").content.decode()
    assert "Släckt lykta i Malmö" in html
    assert "anna@example.org" not in html and "070-123 45 67" not in html

    Report.objects.filter(pk=report.pk).update(share_contact=True)
    html = handler.get(f"/admin/inbox/{report.pk}/").content.decode()
    assert "anna@example.org" in html and "070-123 45 67" in html


@pytest.mark.django_db
def test_the_status_form_changes_the_status_and_records_who_did(handler, cases):
    report = cases[MALMO].report
    response = handler.post(
        f"/admin/inbox/{report.pk}/",
        {"status": ReportStatus.IN_PROGRESS, "note": "Vi byter lampan i veckan."},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.IN_PROGRESS
    event = ReportEvent.objects.get(report=report)
    assert event.kind == EventKind.STATUS
    assert event.status == ReportStatus.IN_PROGRESS
    assert event.note == "Vi byter lampan i veckan."
    assert event.actor_kind == ActorKind.STAFF
    assert event.actor_user == response.wsgi_request.user


@pytest.mark.django_db
def test_the_status_form_does_not_offer_unconfirmed(handler, cases):
    report = cases[MALMO].report
    page = handler.get(f"/admin/inbox/{report.pk}/").content.decode()
    assert 'value="in_progress"' in page and 'value="unconfirmed"' not in page
    response = handler.post(
        f"/admin/inbox/{report.pk}/", {"status": ReportStatus.UNCONFIRMED}
    )
    assert response.status_code == 200
    assert "status" in response.context["form"].errors
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN
    assert not ReportEvent.objects.filter(report=report).exists()


@pytest.mark.django_db
def test_another_kommuns_report_cannot_be_seen_or_changed(client, cases):
    as_user(client, staff("malmo-kundcenter-test", MALMO, StaffRole.CONTACT_CENTRE))
    report = cases[LUND].report
    assert client.get(f"/admin/inbox/{report.pk}/").status_code == 404
    response = client.post(
        f"/admin/inbox/{report.pk}/", {"status": ReportStatus.FIXED, "note": "Klart"}
    )
    assert response.status_code == 404
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN
    assert not ReportEvent.objects.filter(report=report).exists()
    # The kommun's own is open to the contact centre.
    own = cases[MALMO].report
    assert client.get(f"/admin/inbox/{own.pk}/").status_code == 200


# --- filters, search, sort and paging ------------------------------------------------


def listed(client, **params) -> list[int]:
    """The report ids the inbox lists, in order."""
    page = client.get("/admin/inbox/", params)
    assert page.status_code == 200
    return [report.pk for report in page.context["object_list"]]


@pytest.mark.django_db
def test_the_inbox_filters_searches_and_sorts(handler, cases):
    user = handler.get("/admin/").wsgi_request.user
    street = cases[MALMO].report
    webhook = Connection.objects.create(
        body=kommun_body(MALMO),
        name="Ärendesystem",
        kind=ConnectionKind.WEBHOOK,
        endpoint="https://example.org/hook",
    )
    hole = make_report(
        MALMO,
        title="Hål i asfalten",
        description="Djupt hål vid busshållplatsen.",
        category_slug="klotter",
        priority=ReportPriority.URGENT,
    )
    make_delivery(hole, webhook, DeliveryState.DELIVERED, external_id="GATA-77")
    old = make_report(MALMO, title="Gammal lykta", assigned_to=user)
    Report.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=40)
    )

    assert listed(handler) == [hole.pk, street.pk, old.pk]  # newest first
    assert listed(handler, q="GATA-77") == [hole.pk]  # the case system's reference
    assert listed(handler, q="busshållplatsen") == [hole.pk]  # the description
    assert listed(handler, q=f"#{old.pk}") == [old.pk]
    assert listed(handler, q="Lund") == []  # another kommun's never
    assert listed(handler, category=hole.category_id) == [hole.pk]
    assert listed(handler, priority="urgent") == [hole.pk]
    assert listed(handler, assigned="me") == [old.pk]
    assert set(listed(handler, assigned="none")) == {hole.pk, street.pk}
    assert listed(handler, age="30") == [old.pk]
    assert listed(handler, body=kommun_body(MALMO).pk) == [hole.pk, street.pk, old.pk]
    # Another kommun's body is no choice at all.
    refused = handler.get("/admin/inbox/", {"body": kommun_body(LUND).pk})
    assert "body" in refused.context["filters"].errors
    # Sorted by priority, the urgent first; by age, the oldest first.
    assert listed(handler, ordering="priority_rank")[0] == hole.pk
    assert listed(handler, ordering="created_at")[0] == old.pk


@pytest.mark.django_db
def test_the_inbox_pages(handler, cases):
    for n in range(51):
        make_report(MALMO, title=f"Lykta {n}")
    first = handler.get("/admin/inbox/")
    assert len(first.context["object_list"]) == 50
    second = handler.get("/admin/inbox/", {"p": 2})
    assert len(second.context["object_list"]) == 2  # 52 in all


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", ["", "-created_at", "created_at", "priority_rank"])
def test_pages_past_the_middle_read_from_the_far_end_show_each_report_once(
    handler, cases, ordering
):
    """Paged forwards or from the far end (workspace.listing.EitherEndPaginator),
    every report is on exactly one page, in one order, also where reports
    were received at the same moment and share a priority."""
    same_moment = timezone.now() - timedelta(days=3)
    reports = [make_report(MALMO, title=f"Lykta {n}") for n in range(130)]
    Report.objects.filter(pk__in=[r.pk for r in reports[:60]]).update(
        created_at=same_moment
    )
    Report.objects.filter(pk__in=[r.pk for r in reports[::3]]).update(
        priority=ReportPriority.HIGH
    )
    params = {"ordering": ordering} if ordering else {}
    total = len(listed(handler, **params, p=1)) + len(listed(handler, **params, p=2))
    pages = [listed(handler, **params, p=p) for p in (1, 2, 3)]
    seen = [pk for page in pages for pk in page]
    assert total == 100 and len(pages[2]) == len(seen) - 100
    assert (
        len(seen)
        == len(set(seen))
        == Report.objects.filter(municipality__code=MALMO)
        .exclude(status=ReportStatus.UNCONFIRMED)
        .count()
    )
    # The far end's page is the forward order's tail.
    key = {
        "": lambda r: (-r.created_at.timestamp(), -r.pk),
        "-created_at": lambda r: (-r.created_at.timestamp(), -r.pk),
        "created_at": lambda r: (r.created_at.timestamp(), -r.pk),
        "priority_rank": lambda r: (r.priority_rank, -r.created_at.timestamp(), -r.pk),
    }[ordering]
    expected = sorted(Report.objects.filter(pk__in=seen), key=key)
    assert seen == [r.pk for r in expected]


@pytest.mark.django_db
def test_a_first_page_that_is_not_full_is_counted_without_a_count_query(handler, cases):
    """EitherEndPaginator reads the first page before counting: a search that
    finds a few reports reads them once; a full first page is counted too."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_report(MALMO, title="Ovanlig lyktstolpe")

    def counted(**params):
        with CaptureQueriesContext(connection) as queries:
            page = handler.get("/admin/inbox/", params)
        counts = [q for q in queries.captured_queries if "COUNT(" in q["sql"]]
        return page, counts

    page, counts = counted(q="ovanlig lyktstolpe")
    assert [r.title for r in page.context["object_list"]] == ["Ovanlig lyktstolpe"]
    assert page.context["paginator"].count == 1 and not counts
    page, counts = counted(q="zz ingen sådan")
    assert page.context["paginator"].count == 0 and not counts
    for n in range(55):
        make_report(MALMO, title=f"Lykta {n}")
    page, counts = counted()
    assert len(page.context["object_list"]) == 50
    total = Report.objects.filter(municipality__code=MALMO).exclude(
        status=ReportStatus.UNCONFIRMED
    )
    assert page.context["paginator"].count == total.count() and counts


@pytest.mark.django_db
def test_bad_filter_values_are_refused_at_the_filter_not_with_an_error(handler, cases):
    page = handler.get(
        "/admin/inbox/",
        {"age": "forever", "priority": "sky-high", "assigned": "x", "q": "\x00"},
    )
    assert page.status_code == 200
    errors = page.context["filters"].errors
    # A NUL never reaches the database (PostgreSQL refuses it).
    assert {"age", "priority", "assigned", "q"} <= set(errors)


@pytest.mark.django_db
def test_another_kommuns_response_template_is_never_applied(handler, cases):
    lund = ResponseTemplate.objects.create(
        municipality=Municipality.objects.get(code=LUND),
        name="Lunds svar",
        text="Hemligt svar från Lund om {rapport}.",
    )
    report = cases[MALMO].report
    page = handler.get(f"/admin/inbox/{report.pk}/", {"template": lund.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Lunds svar" not in html and "Hemligt svar" not in html
    assert page.context["form"].initial.get("note") is None
