"""The statistics pages: a kommun's and the nation's public page, the staff
dashboard over the member of staff's scope and the inbox's filters, their CSV
files, wrong periods and tables, and no figure of another kommun's."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from municipalities.choices import StaffRole
from municipalities.workdays import local_date
from reports.choices import ReportStatus
from reports.models import Questionnaire
from tests.support.casework import LUND, MALMO, as_user, make_report
from tests.support.people import staff_user, superuser

pytestmark = pytest.mark.django_db

MALMO_SITE, LUND_SITE = "malmo.localhost", "lund.localhost"


@pytest.fixture
def reports():
    """Three reports in Malmö (one fixed), two in Lund (one a duplicate),
    received today: the milestones are set as reports.milestones would."""
    today = local_date(timezone.now())
    fields = {"received_on": today, "received_month": today.replace(day=1)}
    made = [
        make_report(MALMO, title="Malmö öppen", **fields),
        make_report(MALMO, title="Malmö öppen 2", **fields),
        make_report(
            MALMO,
            title="Malmö lagad",
            status=ReportStatus.FIXED,
            fix_days=1,
            response_days=0,
            **fields,
        ),
        make_report(LUND, title="Lund öppen", **fields),
        make_report(
            LUND, title="Lund dubblett", status=ReportStatus.DUPLICATE, **fields
        ),
    ]
    return made


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_kommun_page_shows_its_own_figures_with_charts_and_tables(client, reports):
    response = client.get("/statistik/", HTTP_HOST=MALMO_SITE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Statistics for Malmö" in html
    assert "3 reports received" in html
    assert '<svg viewBox="0 0' in html and 'role="img"' in html
    assert '<th scope="col">' in html and '<th scope="row">' in html
    assert "<caption>" in html
    assert "format=csv&amp;table=month" in html
    # No inline script or style (the CSP refuses both).
    assert "<script>" not in html and "style=" not in html
    # Nothing personal.
    assert "070-123" not in html and "Malmö öppen" not in html


def test_the_page_speaks_swedish_by_default(client, reports, settings):
    settings.LANGUAGE_CODE = "sv"
    html = client.get("/statistik/", HTTP_HOST=MALMO_SITE).content.decode()
    assert "Statistik för Malmö" in html and "3 felanmälningar mottagna" in html
    summary = csv_rows(
        client.get(
            "/statistik/", {"format": "csv", "table": "summary"}, HTTP_HOST=MALMO_SITE
        )
    )
    assert summary[0][:2] == ["Felanmälningar", "Mottagna"]
    assert summary[1][0] == "Alla felanmälningar"


def test_the_national_page_has_a_table_of_kommuner(client, reports):
    html = client.get("/statistik/", HTTP_HOST="localhost").content.decode()
    assert "5 reports received" in html
    assert 'id="table-kommun-heading"' in html
    assert '<th scope="row">Lund</th>' in html and '<th scope="row">Malmö</th>' in html


def test_csv_of_a_table(client, reports):
    response = client.get(
        "/statistik/", {"format": "csv", "table": "summary"}, HTTP_HOST=LUND_SITE
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, row = csv_rows(response)
    assert row[0] == "All reports"
    values = dict(zip(header, row, strict=True))
    assert values["Received"] == "2" and values["Duplicates"] == "1"
    months = csv_rows(
        client.get(
            "/statistik/", {"format": "csv", "table": "month"}, HTTP_HOST=LUND_SITE
        )
    )
    assert months[-1][0] == timezone.localdate().strftime("%Y-%m")
    assert len(months) == 1 + 12


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from": "", "to": ""}, "from", "Give the first day."),
        (
            {"from": "2026-05-01", "to": "2026-04-01"},
            "to",
            "The last day comes before the first.",
        ),
        ({"from": "2026-02-30", "to": "2026-04-01"}, "from", "Enter a valid date."),
    ],
)
def test_a_wrong_period_is_an_error_at_its_field_and_no_figures(
    client, reports, query, field, message
):
    response = client.get("/statistik/", query, HTTP_HOST=MALMO_SITE)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html and message in html
    assert 'aria-invalid="true"' in html
    assert "<table" not in html and "<svg" not in html


def test_a_csv_over_more_than_five_years_says_so(client, reports):
    response = client.get(
        "/statistik/",
        {"format": "csv", "table": "month", "from": "2015-01-01", "to": "2026-01-01"},
        HTTP_HOST=MALMO_SITE,
    )
    assert response.status_code == 400
    assert "at most five years" in response.content.decode()
    unknown = client.get(
        "/statistik/", {"format": "csv", "table": "x"}, HTTP_HOST=MALMO_SITE
    )
    assert unknown.status_code == 400
    kommun_table = client.get(
        "/statistik/", {"format": "csv", "table": "kommun"}, HTTP_HOST=MALMO_SITE
    )
    assert kommun_table.status_code == 400


def test_anonymous_csv_is_rate_limited(client, reports, settings):
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "statistics_csv": (2, 600),
    }
    cache.clear()
    query = {"format": "csv", "table": "summary"}
    answers = [
        client.get("/statistik/", query, HTTP_HOST=MALMO_SITE).status_code
        for _ in range(3)
    ]
    assert answers == [200, 200, 429]
    # The page itself is not limited.
    assert client.get("/statistik/", HTTP_HOST=MALMO_SITE).status_code == 200


# --- the staff dashboard ----------------------------------------------------------


def test_the_dashboard_counts_only_the_users_kommun(client, reports):
    lund_admin = staff_user("lund-admin", LUND, StaffRole.ADMIN)
    as_user(client, lund_admin)
    response = client.get("/admin/statistics/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 reports received" in html
    assert "Malmö" not in html
    summary = csv_rows(
        client.get("/admin/statistics/", {"format": "csv", "table": "summary"})
    )
    assert summary[1][1] == "2"
    # The national table is not offered to a kommun's staff.
    assert 'id="table-kommun-heading"' not in html
    refused = client.get("/admin/statistics/", {"format": "csv", "table": "kommun"})
    assert refused.status_code == 400


def test_the_dashboard_takes_the_inboxs_filters(client, reports):
    malmo_handler = staff_user("malmo-handler", MALMO, StaffRole.CASE_HANDLER)
    as_user(client, malmo_handler)
    html = client.get("/admin/statistics/", {"status": "fixed"}).content.decode()
    assert "1 report received" in html
    # The inbox's filters are shown open while one is in use, else folded.
    assert '<details class="stats-inbox-filters" open>' in html
    plain = client.get("/admin/statistics/").content.decode()
    assert '<details class="stats-inbox-filters">' in plain
    wrong = client.get("/admin/statistics/", {"status": "nonsense"})
    assert wrong.status_code == 400
    assert "table-summary-heading" not in wrong.content.decode()
    period = client.get(
        "/admin/statistics/", {"from": "2026-05-01", "to": "2026-01-01"}
    )
    assert period.status_code == 400


def test_the_dashboard_is_for_staff_and_a_superuser_sees_every_kommun(client, reports):
    assert client.get("/admin/statistics/").status_code == 302
    as_user(client, superuser())
    html = client.get("/admin/statistics/").content.decode()
    assert "5 reports received" in html and 'id="table-kommun-heading"' in html
    menu = client.get("/admin/").content.decode()
    assert "/admin/statistics/" in menu


def test_figures_leave_out_reports_received_outside_the_period(client, reports):
    today = local_date(timezone.now())
    old = today - timedelta(days=800)
    make_report(
        MALMO, title="Gammal", received_on=old, received_month=old.replace(day=1)
    )
    html = client.get("/statistik/", HTTP_HOST=MALMO_SITE).content.decode()
    assert "3 reports received" in html
    html = client.get(
        "/statistik/",
        {"from": old.isoformat(), "to": today.isoformat()},
        HTTP_HOST=MALMO_SITE,
    ).content.decode()
    assert "4 reports received" in html


def test_the_page_counts_the_answers_to_is_it_fixed(client, reports):
    """Answered today: in Malmö a "yes", a "no" that reopened its report and a
    plain "no"; in Lund a "yes", which Malmö's page does not count."""
    now = timezone.now()
    malmo_open, malmo_open_2, malmo_fixed, lund_open, _dup = reports
    for report, answer, reopened in (
        (malmo_open, "yes", False),
        (malmo_fixed, "no", True),
        (malmo_open_2, "no", False),
        (lund_open, "yes", False),
    ):
        Questionnaire.objects.create(
            report=report,
            municipality_id=report.municipality_id,
            sent_at=now - timedelta(hours=1),
            answered_at=now,
            answer=answer,
            reopened=reopened,
        )
    html = client.get("/statistik/", HTTP_HOST=MALMO_SITE).content.decode()
    table = html.split('id="questionnaire-answers"', 1)[1].split("</table>", 1)[0]
    cells = [c.split("<", 1)[0] for c in table.split("<tbody>", 1)[1].split("<td>")[1:]]
    assert cells == ["3", "1", "2", "1"]
    national = client.get("/statistik/", HTTP_HOST="localhost").content.decode()
    table = national.split('id="questionnaire-answers"', 1)[1].split("</table>", 1)[0]
    cells = [c.split("<", 1)[0] for c in table.split("<tbody>", 1)[1].split("<td>")[1:]]
    assert cells == ["4", "2", "2", "1"]
