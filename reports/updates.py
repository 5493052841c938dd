"""Citizens' updates on a report: its reporter, and signed-in followers, add
text and a photo to the report's timeline, and the reporter can say that it is
fixed.

Who may (``update_author``): the reporter signed in, or holding the reporter's
Mina sidor session (``reports.my_reports``); a signed-in user who follows the
report (a confirmed subscription). Each update is one public event naming its
actor (the reporter or a follower), broadcast to watchers, e-mailed to
followers in the next batch (``reports.notifications``) and handed to the case
hub (``reports.handoff``), which tells the case system holding the report's
case. Staff moderate an update as they moderate a report (its text and photos
hidden, ``workspace.services.report_update_moderate``).

The reporter's answer to "is it fixed?" (``questionnaire_answer``, by the link
``reports.questionnaire`` e-mails) changes the status the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import (
    OPEN_STATUSES,
    PUBLIC_STATUSES,
    REOPENABLE_STATUSES,
    ActorKind,
    EventKind,
    QuestionnaireAnswer,
    ReportStatus,
    TokenPurpose,
)
from .events import Actor, event_record
from .handoff import citizen_event_recorded
from .map import map_changed
from .models import Questionnaire, Report, ReportEvent, ReportPhoto, Subscription
from .my_reports import SESSION_KEY
from .photos import ProcessedPhoto
from .questionnaire import questionnaire_due
from .tokens import TokenInvalid, token_hash, token_use

UPDATE_MAX_CHARS = 2000
# Where the reporter's "it is fixed" applies.
FIXABLE_STATUSES = OPEN_STATUSES | {ReportStatus.CLOSED}
UPDATE_MAX_PHOTOS = 1


def update_author(*, report: Report, user, session) -> Actor | None:
    """Who the visitor is to this report, if they may add an update: its
    reporter (signed in, or by the Mina sidor session of the report's address),
    a signed-in follower, or None."""
    signed_in = user is not None and user.is_authenticated
    if signed_in and report.reporter_id == user.pk:
        return Actor.reporter(user)
    email = session.get(SESSION_KEY) if session is not None else None
    if email and report.email and email == report.email:
        return Actor.reporter(user if signed_in else None)
    if signed_in:
        follows = Subscription.objects.filter(
            report=report, confirmed_at__isnull=False, user=user
        )
        if user.email:
            follows = follows | Subscription.objects.filter(
                report=report, confirmed_at__isnull=False, email=user.email.lower()
            )
        if follows.exists():
            return Actor(ActorKind.FOLLOWER, user=user)
    return None


def _status_by_reporter(
    report: Report, status: ReportStatus, *, data: dict, note: str = ""
) -> ReportEvent:
    """The reporter changes the report's status (row locked by the caller): one
    event naming the reporter, handed to the case hub."""
    now = timezone.now()
    report.status = status
    report.status_changed_at = now
    report.status_as_of = max(now, report.status_as_of or now)
    report.save(
        update_fields=["status", "status_changed_at", "status_as_of", "updated_at"]
    )
    transaction.on_commit(map_changed)
    event = event_record(
        report=report,
        actor=Actor.reporter(report.reporter),
        kind=EventKind.STATUS,
        status=status,
        note=note,
        data={"by_reporter": True, **data},
        happened_at=now,
    )
    citizen_event_recorded(event)
    return event


def reporter_may_say_fixed(report: Report) -> bool:
    """Whether the reporter's "it is fixed" would change the report: open, or
    closed (not a duplicate, nor turned down, nor fixed already)."""
    return report.status in FIXABLE_STATUSES


def report_fixed_by_reporter(*, report: Report, data: dict | None = None):
    """The reporter says the report (row locked) is fixed: None when that
    changes nothing (``reporter_may_say_fixed``)."""
    if not reporter_may_say_fixed(report):
        return None
    return _status_by_reporter(report, ReportStatus.FIXED, data=data or {})


def report_reopened_by_reporter(*, report: Report, data: dict | None = None):
    """The reporter says the report (row locked) is not fixed after all: it is
    open again."""
    return _status_by_reporter(
        report, ReportStatus.OPEN, data={"reopened": True, **(data or {})}
    )


@transaction.atomic
def report_update_add(
    *,
    report_id: int,
    author: Actor,
    text: str = "",
    photos: Sequence[ProcessedPhoto] = (),
    fixed: bool = False,
) -> list[ReportEvent]:
    """Add a citizen's update to a public report: text and at most one photo
    (checked and stripped by ``reports.photos``), and, from its reporter, "it
    is fixed". The events made, in order: the update, then the status."""
    if author.kind not in (ActorKind.REPORTER, ActorKind.FOLLOWER):
        raise PermissionDenied("Only the reporter and followers add updates.")
    text = text.strip()
    errors = {}
    if len(text) > UPDATE_MAX_CHARS:
        errors["text"] = _("At most %(count)d characters.") % {
            "count": UPDATE_MAX_CHARS
        }
    if len(photos) > UPDATE_MAX_PHOTOS:
        errors["photo"] = _("One photo per update.")
    if fixed and author.kind != ActorKind.REPORTER:
        errors["fixed"] = _("Only the reporter can say that it is fixed.")
    if not errors and not text and not photos and not fixed:
        errors["text"] = _("Write what has happened, or add a photo.")
    if errors:
        raise ValidationError(errors)
    report = (
        Report.objects.select_for_update()
        .filter(pk=report_id, status__in=PUBLIC_STATUSES, is_hidden=False)
        .first()
    )
    if report is None:
        raise ValidationError(_("This report cannot take updates."))
    if fixed and not reporter_may_say_fixed(report):
        raise ValidationError(
            {"fixed": _("This report is not open: it cannot be marked fixed.")}
        )
    events = []
    if text or photos:
        by = "reporter" if author.kind == ActorKind.REPORTER else "follower"
        event = event_record(
            report=report,
            actor=author,
            kind=EventKind.UPDATE,
            note=text,
            data={"by": by},
        )
        if photos:
            kept = []
            for position, photo in enumerate(photos):
                stem = uuid.uuid4().hex
                saved = ReportPhoto.objects.create(
                    report=report,
                    event=event,
                    image=ContentFile(photo.image, name=f"{stem}.jpg"),
                    thumbnail=ContentFile(photo.thumbnail, name=f"{stem}-thumb.jpg"),
                    position=position,
                )
                kept.append(
                    {
                        "id": saved.pk,
                        "image": saved.image.url,
                        "thumbnail": saved.thumbnail.url,
                    }
                )
            # The timeline shows them from the event's own data (as watchers'
            # pages render it): written before the broadcast after commit.
            event.data = {**event.data, "photos": kept}
            event.save(update_fields=["data"])
        citizen_event_recorded(event)
        events.append(event)
    if fixed:
        status_event = report_fixed_by_reporter(report=report)
        if status_event is not None:
            events.append(status_event)
    return events


@transaction.atomic
def questionnaire_answer(
    *, raw_token: str, fixed: bool, ask_again: bool = False
) -> Questionnaire:
    """The reporter's answer by the e-mailed link (used once): "yes" marks the
    report fixed by the reporter, "no" reopens a fixed or closed report;
    ``ask_again``: asked again after the kommun's interval. TokenInvalid for a
    link that is unknown, used or expired."""
    token = token_use(raw_token, TokenPurpose.QUESTIONNAIRE)
    questionnaire = (
        Questionnaire.objects.select_for_update()
        .filter(token_hash=token_hash(raw_token))
        .first()
    )
    if questionnaire is None:  # a token without its questionnaire: never made
        raise TokenInvalid("This link is not valid.")
    report = (
        Report.objects.select_for_update()
        .select_related("municipality")
        .get(pk=token.report_id)
    )
    now = timezone.now()
    questionnaire.answered_at = now
    questionnaire.answer = QuestionnaireAnswer.YES if fixed else QuestionnaireAnswer.NO
    questionnaire.ask_again = ask_again
    data = {"questionnaire": True}
    if fixed:
        report_fixed_by_reporter(report=report, data=data)
    elif report.status in REOPENABLE_STATUSES:
        report_reopened_by_reporter(report=report, data=data)
        questionnaire.reopened = True
    questionnaire.save(update_fields=["answered_at", "answer", "ask_again", "reopened"])
    due = questionnaire_due(report, after=now) if ask_again else None
    Report.objects.filter(pk=report.pk).update(questionnaire_due_at=due)
    return questionnaire
