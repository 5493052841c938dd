"""When the overdue digest (workspace.digest) is sent: a day claimed once per
kommun by a unique row, and the scheduler thread that claims each working day
from the digest hour. See workspace.digest for the rules."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from infra.periodic import Periodic
from infra.tasks import enqueue_with_transaction
from municipalities.models import Municipality
from municipalities.workdays import CalendarUnavailable, WorkingDays, stockholm

from .due import own_calendars
from .models import DigestDay
from .tasks import send_overdue_digest_task

logger = logging.getLogger("knutpunkt.digest")


def digest_claim(*, municipality_id: int, day: dt.date, enqueue: bool = True) -> bool:
    """Claim the kommun's digest of ``day``: True for the one caller that
    wrote its row (and, with ``enqueue``, queued its sending in the same
    transaction); False when it was claimed already."""
    try:
        with transaction.atomic():
            DigestDay.objects.create(municipality_id=municipality_id, day=day)
            if enqueue:
                enqueue_with_transaction(
                    send_overdue_digest_task, municipality_id, day.isoformat()
                )
    except IntegrityError:
        return False
    return True


def digest_local_now(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()).astimezone(stockholm())


def digests_claim_due(now: dt.datetime | None = None) -> list[int]:
    """The scheduler's step: from the digest hour, claim today's digest of
    each participating kommun that has none yet and works today. Returns the
    kommuner claimed."""
    local = digest_local_now(now)
    if local.hour < settings.KNUTPUNKT_DIGEST_HOUR:
        return []
    today = local.date()
    # A plain read first: once today's rows exist, a look writes nothing.
    waiting = list(
        Municipality.objects.filter(participating=True)
        .exclude(pk__in=DigestDay.objects.filter(day=today).values("municipality_id"))
        .values_list("pk", flat=True)
    )
    claimed = []
    calendars = own_calendars() if waiting else {}
    for kommun_id in waiting:
        try:
            if not calendars.get(kommun_id, WorkingDays()).is_working_day(today):
                continue
        except CalendarUnavailable as error:
            logger.warning("No overdue digest for kommun %s: %s", kommun_id, error)
            continue
        if digest_claim(municipality_id=kommun_id, day=today):
            claimed.append(kommun_id)
    return claimed


DIGEST_SCHEDULER = Periodic(
    name="digest-scheduler",
    step=digests_claim_due,
    every=lambda: settings.KNUTPUNKT_DIGEST_CHECK_SECONDS,
    failed="Claiming the overdue digests failed",
    logger=logger,
)
