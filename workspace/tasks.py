"""Background tasks of the staff workspace; they take ids and are safe to rerun."""

from datetime import date

from django.utils import translation
from django_tasks import task

from infra.tasks import PRIORITY_BATCH
from reports.mail import mail_link, send_to
from reports.models import Report

from .digest import digest_send
from .moderation import moderation_summary


@task()
def send_moderation_notice_task(
    report_id: int, changed: list[str], photos: int, reason: str
) -> None:
    """Tell the reporter, in their language, what moderation edited on their
    report and why (never the removed text)."""
    report = Report.objects.select_related("filed_on_site").get(pk=report_id)
    with translation.override(report.language):
        what = moderation_summary(changed=changed, photos=photos)
    send_to(
        report=report,
        to=report.email,
        template="report_moderated",
        context={
            "what": what,
            "reason": reason,
            "report_url": mail_link(report, "report-detail", report.pk),
        },
    )


@task(priority=PRIORITY_BATCH)
def send_overdue_digest_task(municipality_id: int, day: str) -> None:
    """Send a kommun's overdue digest of ``day`` (ISO date) to its case
    handlers; nothing when that day was sent already (workspace.digest)."""
    digest_send(municipality_id=municipality_id, day=date.fromisoformat(day))
