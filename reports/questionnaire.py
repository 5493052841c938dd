""" "Is it fixed?": the reporter is asked by e-mail, a kommun's interval
(``Municipality.questionnaire_days``, 28 days by default) after the report was
sent, and again as often while they ask for it.

- **When**: ``Report.questionnaire_due_at``, set when the report is confirmed
  (and so handed to the case hub to send) and again by an answer that asks to
  be asked again; cleared by the claim.
- **Claim** (``reports.questionnaire_schedule.questionnaire_claim``): one conditional UPDATE clears the due
  time, so that of several processes looking at once (the scheduler runs in
  every server and worker, like the overdue digest's) one wins, and in the
  same transaction writes the ``Questionnaire`` and queues its e-mail. The
  e-mail's task sends only a questionnaire not yet sent (safe to rerun).
- **Link**: a single-use e-mailed token (``reports.tokens``, purpose
  "questionnaire"; no sign-in). Its hash is kept on the questionnaire too, so a
  link opened again is recognised after use (the reader is taken to the report)
  and after its report was deleted or its reporter erased (410, said plainly),
  by ``reports.tokens.token_used_report``.
- **Answer** (``reports.updates.questionnaire_answer``): "yes" marks the report fixed by the
  reporter; "no" on a fixed or closed report reopens it. Either is an event
  naming the reporter, shown live, e-mailed to followers and handed to the case
  hub, which tells the body's case system. The answers are counted in the
  statistics (``stats.figures.questionnaire_counts``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .choices import OPEN_STATUSES, REOPENABLE_STATUSES, TokenPurpose
from .mail import mail_link, send_to
from .models import Questionnaire, Report
from .tokens import token_hash, token_issue

# The statuses in which the reporter is asked: open, fixed or closed (not a
# duplicate, nor one the body turned down).
ASKED_STATUSES = OPEN_STATUSES | REOPENABLE_STATUSES


def questionnaire_due(report: Report, *, after: datetime | None = None) -> datetime:
    """When the report's reporter is next asked: the kommun's interval after
    ``after`` (now)."""
    days = report.municipality.questionnaire_days
    return (after or timezone.now()) + timedelta(days=days)


def questionnaire_send(*, questionnaire_id: int) -> bool:
    """E-mail a claimed questionnaire to the reporter, once: its single-use link
    (valid until the next one could be due, and at least the setting's days)."""
    with transaction.atomic():
        questionnaire = (
            Questionnaire.objects.select_for_update()
            .filter(pk=questionnaire_id, sent_at__isnull=True, report__isnull=False)
            .first()
        )
        if questionnaire is None:
            return False
        report = Report.objects.select_related(
            "filed_on_site", "municipality", "category"
        ).get(pk=questionnaire.report_id)
        days = max(
            report.municipality.questionnaire_days,
            settings.KNUTPUNKT_QUESTIONNAIRE_LINK_DAYS,
        )
        raw = token_issue(
            purpose=TokenPurpose.QUESTIONNAIRE, report=report, ttl=timedelta(days=days)
        )
        questionnaire.token_hash = token_hash(raw)
        questionnaire.sent_at = timezone.now()
        questionnaire.save(update_fields=["token_hash", "sent_at"])
        url = mail_link(report, "questionnaire", raw)
        # Sent after commit: a failed send leaves the questionnaire sent (the
        # task is not rerun into a second e-mail); the reporter is asked again
        # only if they ask for it.
        transaction.on_commit(
            lambda: send_to(
                report=report,
                to=report.email,
                template="questionnaire",
                context={
                    "questionnaire_url": url,
                    "report_url": mail_link(report, "report-detail", report.pk),
                },
            )
        )
    return True


def questionnaire_first_due(report: Report) -> None:
    """A report was confirmed (row locked): its reporter is asked after the
    kommun's interval, if there is an address to ask."""
    if report.email:
        report.questionnaire_due_at = questionnaire_due(report)
        Report.objects.filter(pk=report.pk).update(
            questionnaire_due_at=report.questionnaire_due_at
        )
