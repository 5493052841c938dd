"""A reporter on a phone answers "is it fixed?" with "no" on a report marked
fixed, from the link in the e-mail the scheduler of the running server sent;
the report's page, open in another tab, shows it reopened at once, without a
reload."""

import re

import pytest
from playwright.sync_api import expect

from devkit.instance import shell, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# A report by a signed-in reporter, marked fixed by Malmö's case handler, whose
# questionnaire is due now: the server's scheduler claims it.
FIXED_REPORT = """
from datetime import timedelta
from django.utils import timezone
from reports.choices import ReportStatus
from reports.models import Report
from reports.services import report_transition
from tests.support.casehub import confirmed_report
from tests.support.people import case_handler
report = confirmed_report(title="Släckt lykta vid torget")
report_transition(actor=case_handler(), report_id=report.pk, status=ReportStatus.FIXED)
Report.objects.filter(pk=report.pk).update(
    questionnaire_due_at=timezone.now() - timedelta(minutes=1)
)
print(report.pk)
"""


def questionnaire_mail(smtp) -> str | None:
    return next(
        (body for body in smtp.bodies_to("anna@example.org") if "/fixat/" in body),
        None,
    )


@pytest.fixture
def site_settings() -> dict:
    return {
        "KNUTPUNKT_QUESTIONNAIRE_CHECK_SECONDS": "1",
        # No overdue digests queued beside the questionnaire's e-mail.
        "KNUTPUNKT_DIGEST_HOUR": "24",
    }


def test_no_on_a_fixed_report_reopens_it_live(phone, artifacts, mailed_site):
    port, env, smtp = mailed_site.port, mailed_site.env, mailed_site.smtp
    (report_id,) = shell(env, FIXED_REPORT)
    watching = phone.new_page()
    watching.goto(f"http://localhost:{port}/rapporter/{report_id}/")
    status = watching.locator("#report-status")
    expect(status).to_have_class("status status-fixed")
    watching.locator("article[data-live-state=open]").wait_for(timeout=10_000)
    started = watching.evaluate(
        "() => { window.liveMarker = 'before-answer'; return performance.timeOrigin; }"
    )

    assert wait_for(lambda: questionnaire_mail(smtp), timeout=90), (
        "no questionnaire arrived"
    )
    link = re.search(r"http://\S+/fixat/\S+/", questionnaire_mail(smtp)).group(0)
    answering = phone.new_page()
    answering.goto(link)
    answering.locator("input[name=fixed][value=no]").check()
    answering.screenshot(path=str(artifacts / "questionnaire-1-no.png"))
    answering.locator("form.questionnaire button[type=submit]").tap()
    answering.wait_for_url(re.compile(rf"/rapporter/{report_id}/$"))

    expect(status).to_have_class("status status-open", timeout=5_000)
    expect(status).to_have_text("Öppen")
    reopened = watching.locator("#timeline .reopened")
    expect(reopened).to_have_count(1, timeout=5_000)
    assert watching.evaluate(
        "() => [window.liveMarker, performance.timeOrigin,"
        " performance.getEntriesByType('navigation').length]"
    ) == ["before-answer", started, 1]
    watching.screenshot(
        path=str(artifacts / "questionnaire-2-reopened.png"), full_page=True
    )

    # The link works once: opened again it takes the reader to the report.
    again = phone.new_page()
    again.goto(link)
    again.wait_for_url(re.compile(rf"/rapporter/{report_id}/$"))
    expect(again.locator("#report-status")).to_have_class("status status-open")
