"""Scheduled publishing: what editors set to go live ("go live at") is
published, and what they set to expire ("expire at") is unpublished, by a
scheduler thread of our own processes (the server in the embedded profile, each
worker in the scaled one), every ``KNUTPUNKT_PUBLISH_SCHEDULED_SECONDS``.

It does what Wagtail's ``publish_scheduled`` command does, one object at a time
and each in its own transaction, and claims each first: the row is read again,
locked (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the transaction holds
the write lock from its start), and acted on only if it is still due. Several
processes may run the step at the same moment; each revision is published, and
each page unpublished, once.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from wagtail.models import DraftStateMixin, Page, Revision

from infra.periodic import Periodic

logger = logging.getLogger("knutpunkt.cms.scheduled")


@dataclass
class ScheduledRound:
    """What one step did: the revisions it published and the objects it
    unpublished, as (model label, primary key)."""

    published: list[int] = field(default_factory=list)
    unpublished: list[tuple[str, int]] = field(default_factory=list)


def _draft_state_models() -> list[type]:
    """Page, and any other model with drafts and scheduled publishing."""
    return [Page] + [
        model
        for model in apps.get_models()
        if issubclass(model, DraftStateMixin) and not issubclass(model, Page)
    ]


def expired_unpublish(*, model, pk, now: dt.datetime) -> bool:
    """Unpublish one object whose expiry has passed; False when it is no
    longer live and expired (another process came first)."""
    with transaction.atomic():
        obj = (
            model.objects.select_for_update()
            .filter(pk=pk, live=True, expire_at__lt=now)
            .first()
        )
        if obj is None:
            return False
        obj.unpublish(set_expired=True, log_action="wagtail.unpublish.scheduled")
    return True


def revision_publish_due(*, revision_id: int, now: dt.datetime) -> bool:
    """Publish one revision whose approved go-live moment has passed; False
    when it is no longer due (published by another process, or rescheduled)."""
    with transaction.atomic():
        revision = (
            Revision.objects.select_for_update()
            .filter(pk=revision_id, approved_go_live_at__lt=now)
            .first()
        )
        if revision is None:
            return False
        # Publishing clears the approved moment of every revision of the object.
        revision.publish(log_action="wagtail.publish.scheduled")
    return True


def scheduled_publish_step() -> ScheduledRound:
    """The scheduler's step: unpublish what has expired, then publish what is
    due, oldest first. A plain read when nothing is. (Wagtail decides by the
    clock whether a revision goes live now, so the step takes no other
    moment.)"""
    now = timezone.now()
    done = ScheduledRound()
    for model in _draft_state_models():
        expired = model.objects.filter(live=True, expire_at__lt=now).order_by(
            "expire_at"
        )
        for pk in list(expired.values_list("pk", flat=True)):
            if _tried(expired_unpublish, model=model, pk=pk, now=now):
                done.unpublished.append((model._meta.label, pk))
    due = Revision.objects.filter(approved_go_live_at__lt=now).order_by(
        "approved_go_live_at"
    )
    for revision_id in list(due.values_list("pk", flat=True)):
        if _tried(revision_publish_due, revision_id=revision_id, now=now):
            done.published.append(revision_id)
    return done


def _tried(action, **kwargs) -> bool:
    # One object that cannot be published (its revision no longer fits the
    # page's fields, say) is logged, and the others are still published; its
    # transaction rolled back, so it is tried again next time.
    try:
        return action(**kwargs)
    except DatabaseError:
        raise
    except Exception:
        logger.exception("Scheduled publishing: %s %s failed", action.__name__, kwargs)
        return False


SCHEDULED_PUBLISHER = Periodic(
    name="scheduled-publisher",
    step=scheduled_publish_step,
    every=lambda: settings.KNUTPUNKT_PUBLISH_SCHEDULED_SECONDS,
    failed="Scheduled publishing failed",
    logger=logger,
)
