""" "Is it fixed?": the reporter is asked by e-mail, a kommun's interval
(``Municipality.questionnaire_days``, 28 days by default) after the report was
sent, and again as often while they ask for it.

- **When**: ``Report.questionnaire_due_at``, set when the report is confirmed
  (and so handed to the case hub to send) and again by an answer that asks to
  be asked again; cleared by the claim.
- **Claim** (``questionnaire_claim``): one conditional UPDATE clears the due
  time, so that of several processes looking at once (the scheduler runs in
  every server and worker, like the overdue digest's) one wins, and in the
  same transaction writes the ``Questionnaire`` and queues its e-mail. The
  e-mail's task sends only a questionnaire not yet sent (safe to rerun).
- **Link**: a single-use e-mailed token (``reports.tokens``, purpose
  "questionnaire"; no sign-in). Its hash is kept on the questionnaire too, so a
  link opened again is recognised after use (the reader is taken to the report)
  and after its report was deleted (410, said plainly).
- **Answer** (``reports.updates.questionnaire_answer``): "yes" marks the report fixed by the
  reporter; "no" on a fixed or closed report reopens it. Either is an event
  naming the reporter, shown live, e-mailed to followers and handed to the case
  hub, which tells the body's case system. The answers are counted in the
  statistics (``stats.figures.questionnaire_counts``).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone

from infra.tasks import enqueue_with_transaction

from .choices import OPEN_STATUSES, REOPENABLE_STATUSES, TokenPurpose
from .mail import mail_link, send_to
from .models import Questionnaire, Report
from .tokens import token_hash, token_issue

logger = logging.getLogger("knutpunkt.questionnaire")

# The statuses in which the reporter is asked: open, fixed or closed (not a
# duplicate, nor one the body turned down).
ASKED_STATUSES = OPEN_STATUSES | REOPENABLE_STATUSES


def questionnaire_due(report: Report, *, after: datetime | None = None) -> datetime:
    """When the report's reporter is next asked: the kommun's interval after
    ``after`` (now)."""
    days = report.municipality.questionnaire_days
    return (after or timezone.now()) + timedelta(days=days)


def questionnaire_claim(*, report_id: int, now: datetime | None = None) -> bool:
    """Claim the report's due questionnaire: True for the one caller that
    cleared its due time (and wrote and queued the questionnaire in the same
    transaction), False when another did or none is due."""
    # reason: the task module imports this one (the scheduler queues its task).
    from .tasks import send_questionnaire_task

    now = now or timezone.now()
    with transaction.atomic():
        claimed = Report.objects.filter(
            pk=report_id, questionnaire_due_at__lte=now
        ).update(questionnaire_due_at=None)
        if not claimed:
            return False
        report = Report.objects.only("municipality_id", "status", "email").get(
            pk=report_id
        )
        if report.status not in ASKED_STATUSES or not report.email:
            return False
        questionnaire = Questionnaire.objects.create(
            report_id=report_id, municipality_id=report.municipality_id
        )
        enqueue_with_transaction(send_questionnaire_task, questionnaire.pk)
    return True


def questionnaires_claim_due(now: datetime | None = None, limit: int = 200) -> list:
    """The scheduler's step: claim the questionnaires due by ``now`` of public
    reports; the ids of the reports claimed."""
    now = now or timezone.now()
    due = list(
        Report.objects.filter(questionnaire_due_at__lte=now)
        .order_by("questionnaire_due_at")
        .values_list("pk", flat=True)[:limit]
    )
    return [pk for pk in due if questionnaire_claim(report_id=pk, now=now)]


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


def questionnaire_of_link(raw: str) -> Questionnaire | None:
    """The questionnaire an e-mailed link was for, whatever became of it."""
    return Questionnaire.objects.filter(token_hash=token_hash(raw)).first()


def questionnaire_first_due(report: Report) -> None:
    """A report was confirmed (row locked): its reporter is asked after the
    kommun's interval, if there is an address to ask."""
    if report.email:
        report.questionnaire_due_at = questionnaire_due(report)
        Report.objects.filter(pk=report.pk).update(
            questionnaire_due_at=report.questionnaire_due_at
        )


def questionnaire_scheduler_run(
    stop: threading.Event, every: float | None = None
) -> None:
    """Claim the due questionnaires every ``every`` seconds until ``stop``."""
    every = (
        every if every is not None else settings.KNUTPUNKT_QUESTIONNAIRE_CHECK_SECONDS
    )
    while not stop.is_set():
        try:
            questionnaires_claim_due()
        except DatabaseError:
            logger.exception("Claiming the due questionnaires failed")
        finally:
            close_old_connections()
        stop.wait(every)


def questionnaire_scheduler_start() -> tuple[threading.Thread, threading.Event]:
    """Run the questionnaire scheduler on a daemon thread of this process."""
    stop = threading.Event()
    thread = threading.Thread(
        target=questionnaire_scheduler_run,
        args=(stop,),
        name="questionnaire-scheduler",
        daemon=True,
    )
    thread.start()
    return thread, stop
