"""When "is it fixed?" is asked (see reports.questionnaire for the rules): the
claim of a due questionnaire, by one conditional UPDATE so that of several
processes looking at once one wins, and the scheduler thread that looks, started
by the server (embedded) and the workers, like the overdue digest's
(workspace.digest_schedule)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from infra.periodic import Periodic
from infra.tasks import enqueue_with_transaction

from .models import Questionnaire, Report
from .questionnaire import ASKED_STATUSES
from .tasks import send_questionnaire_task

logger = logging.getLogger("knutpunkt.questionnaire")


def questionnaire_claim(*, report_id: int, now: datetime | None = None) -> bool:
    """Claim the report's due questionnaire: True for the one caller that
    cleared its due time (and wrote and queued the questionnaire in the same
    transaction), False when another did or none is due."""
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


QUESTIONNAIRE_SCHEDULER = Periodic(
    name="questionnaire-scheduler",
    step=questionnaires_claim_due,
    every=lambda: settings.KNUTPUNKT_QUESTIONNAIRE_CHECK_SECONDS,
    failed="Claiming the due questionnaires failed",
    logger=logger,
)
