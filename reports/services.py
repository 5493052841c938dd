"""Writes in a report's life: submit, confirm, follow. Side effects after commit."""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from infra.tasks import enqueue_with_transaction
from municipalities.audit import audit_record
from municipalities.choices import QuestionKind
from municipalities.locate import municipality_for_point
from municipalities.models import Category, CategoryQuestion
from municipalities.notices import known_message_for
from municipalities.routing import route_body_id
from municipalities.staff import staff_filing_municipalities, staff_status_scope

from .choices import (
    ON_BEHALF_CHANNELS,
    OPEN_STATUSES,
    EventKind,
    ReportChannel,
    ReportStatus,
    TokenPurpose,
)
from .events import Actor, event_record
from .handoff import report_confirmed
from .map import haversine_m, map_changed
from .models import Report, ReportEvent, ReportPhoto, Subscription
from .photos import ProcessedPhoto
from .questionnaire import questionnaire_first_due
from .tasks import (
    report_address_task,
    send_report_confirmation_task,
    send_report_received_task,
    send_subscription_confirmation_task,
)
from .tokens import token_use

logger = logging.getLogger("knutpunkt.reports")


@dataclass(frozen=True)
class Reporter:
    name: str
    email: str
    phone: str = ""
    show_name: bool = False
    share_contact: bool = False  # consent to hand name, e-mail and phone to the body
    user: object | None = None  # a logged-in user, whose report needs no e-mail


# The public first event of a report filed by staff for someone who called or
# came by (in the report's language; never the member of staff's name).
FILED_ON_BEHALF_NOTES = {
    ReportChannel.PHONE: gettext_lazy("Registered by the contact centre by phone"),
    ReportChannel.VISIT: gettext_lazy("Registered by the contact centre at a visit"),
}


def answers_clean(
    *, category: Category, municipality_id: int | None, raw: dict[str, object]
) -> dict[str, object]:
    """Validate answers to the category's extra questions in the kommun, keyed by
    question code."""
    answers: dict[str, object] = {}
    errors: dict[str, str] = {}
    for question in category.questions_for(municipality_id):
        value = raw.get(question.code)
        empty = value in (None, "", [])
        # Each message names its question: it is shown at the question and in
        # the list of errors at the top of the form.
        if empty:
            if question.required:
                errors[question.code] = _("Answer the question “%(question)s”.") % {
                    "question": question.label
                }
            continue
        try:
            answers[question.code] = _answer_value(question, value)
        except ValueError as exc:
            errors[question.code] = _(
                "Answer the question “%(question)s”: %(problem)s"
            ) % {"question": question.label, "problem": exc}
    if errors:
        raise ValidationError(errors)
    return answers


def _answer_value(question: CategoryQuestion, value: object) -> object:
    if question.kind == QuestionKind.NUMBER:
        try:
            number = float(str(value).replace(",", "."))
        except ValueError:
            raise ValueError(_("Enter a number.")) from None
        if not math.isfinite(number):
            raise ValueError(_("Enter a number."))
        return number
    if question.kind == QuestionKind.SINGLE:
        if value not in question.choices:
            raise ValueError(_("Choose one of the options."))
        return value
    if question.kind == QuestionKind.MULTIPLE:
        values = value if isinstance(value, list) else [value]
        if any(v not in question.choices for v in values):
            raise ValueError(_("Choose among the options."))
        return values
    return str(value)[:1000]


def report_submit(
    *,
    lat: float,
    lon: float,
    category: Category,
    title: str,
    description: str,
    reporter: Reporter,
    photos: Sequence[ProcessedPhoto] = (),
    answers: dict[str, object] | None = None,
    site_id: int | None = None,
    language: str = "sv",
    channel: ReportChannel = ReportChannel.WEB,
    filed_by=None,
    address: str = "",
    address_lookup: bool = True,
) -> Report:
    """Save a report in one transaction, routed by its point.

    A logged-in reporter's report is confirmed at once; anyone else's waits for the
    link e-mailed after commit. Unconfirmed reports are neither public nor delivered.

    ``address``: the place's address as someone gave it; without one, the
    nearest address is looked up after commit (``reports.addresses``) unless
    ``address_lookup`` is off.

    ``filed_by``: a member of staff filing the report for a caller (``reporter``,
    never the member of staff) who phoned or came by (``channel``): they must
    hold a filing role in the kommun of the point
    (``municipalities.staff.staff_filing_municipalities``). The report is
    confirmed at once, its first event is the staff member's, and a caller with
    an e-mail address gets the "received" mail and follows the report.
    """
    if filed_by is not None:
        if channel not in ON_BEHALF_CHANNELS:
            raise ValidationError({"channel": _("Choose phone or visit.")})
        if not staff_filing_municipalities(filed_by).exists():
            raise PermissionDenied("Filing reports for callers is not yours to do.")
        if reporter.user is not None:
            raise ValueError("A report filed for a caller has no reporter account.")
    elif channel != ReportChannel.WEB:
        raise ValueError("Only staff file reports by phone or visit.")
    located = municipality_for_point(lat=lat, lon=lon)
    municipality = located.municipality
    if municipality is None:
        raise ValidationError(
            {"location": _("This place is outside Sweden. Choose a place in Sweden.")}
        )
    if (
        filed_by is not None
        and not staff_filing_municipalities(filed_by)
        .filter(pk=municipality.pk)
        .exists()
    ):
        raise ValidationError(
            {
                "location": _(
                    "This place is in %(kommun)s, where you do not file reports. "
                    "Choose a place in your kommun."
                )
                % {"kommun": municipality.name}
            }
        )
    body_id = route_body_id(municipality=municipality, category=category)
    if body_id is None:
        raise ValidationError(
            {
                "category": _("“%(category)s” is not handled at this place.")
                % {"category": category.name}
            }
        )
    answers = answers_clean(
        category=category, municipality_id=municipality.pk, raw=answers or {}
    )
    confirmed = reporter.user is not None or filed_by is not None
    known = known_message_for(
        municipality_id=municipality.pk, category_id=category.pk, lat=lat, lon=lon
    )
    with transaction.atomic():
        report = Report.objects.create(
            lat=lat,
            lon=lon,
            municipality=municipality,
            category=category,
            body_id=body_id,
            title=title.strip(),
            description=description.strip(),
            extra=answers,
            reporter=reporter.user,
            name=reporter.name.strip(),
            email=reporter.email.strip().lower(),
            phone=reporter.phone.strip(),
            show_name=reporter.show_name,
            share_contact=reporter.share_contact,
            filed_on_site_id=site_id,
            language=language,
            channel=channel,
            address=address.strip()[:255],
            status=ReportStatus.OPEN if confirmed else ReportStatus.UNCONFIRMED,
            confirmed_at=timezone.now() if confirmed else None,
            known_message=known,
        )
        for position, photo in enumerate(photos):
            stem = uuid.uuid4().hex
            ReportPhoto.objects.create(
                report=report,
                image=ContentFile(photo.image, name=f"{stem}.jpg"),
                thumbnail=ContentFile(photo.thumbnail, name=f"{stem}-thumb.jpg"),
                position=position,
            )
        if report.email:
            Subscription.objects.create(
                report=report,
                email=report.email,
                user=reporter.user,
                confirmed_at=report.confirmed_at,
            )
        if filed_by is not None:
            with translation.override(language):
                note = str(FILED_ON_BEHALF_NOTES[channel])
            _report_confirmed(
                report,
                Actor.staff(filed_by),
                note=note,
                data={"channel": channel, "filed_on_behalf": True},
            )
            transaction.on_commit(map_changed)
            if report.email:
                enqueue_with_transaction(send_report_received_task, report.pk)
        elif confirmed:
            _report_confirmed(report, Actor.reporter(reporter.user))
            transaction.on_commit(map_changed)
        else:
            enqueue_with_transaction(send_report_confirmation_task, report.pk)
        if not report.address and address_lookup:
            enqueue_with_transaction(report_address_task, report.pk)
    logger.info("Report %s submitted (confirmed=%s)", report.pk, confirmed)
    return report


def _report_confirmed(
    report: Report, actor: Actor, *, note: str = "", data: dict | None = None
) -> None:
    """A report became public: its first event, the hand-over to the case hub
    (which queues its delivery) and the first "is it fixed?" due, in the same
    transaction."""
    event_record(
        report=report,
        actor=actor,
        kind=EventKind.CONFIRMED,
        status=ReportStatus.OPEN,
        note=note,
        data=data,
    )
    report_confirmed(report)
    questionnaire_first_due(report)


@transaction.atomic
def report_confirm(*, raw_token: str) -> Report:
    """Confirm a report by its e-mailed token: it becomes public and open."""
    token = token_use(raw_token, TokenPurpose.CONFIRM_REPORT)
    report = Report.objects.select_for_update().get(pk=token.report_id)
    if report.status == ReportStatus.UNCONFIRMED:
        report.status = ReportStatus.OPEN
        report.confirmed_at = timezone.now()
        report.save(update_fields=["status", "confirmed_at", "updated_at"])
        Subscription.objects.filter(report=report, email=report.email).update(
            confirmed_at=report.confirmed_at
        )
        _report_confirmed(report, Actor.reporter(report.reporter))
        transaction.on_commit(map_changed)
    return report


@transaction.atomic
def report_follow(*, report: Report, email: str, user=None) -> Subscription:
    """Follow a report's updates instead of filing a duplicate. A logged-in user
    follows at once; anyone else confirms by e-mail first."""
    if report.status not in OPEN_STATUSES or report.is_hidden:
        raise ValidationError({"report": _("This report cannot be followed.")})
    email = email.strip().lower()
    subscription, _created = Subscription.objects.get_or_create(
        report=report, email=email, defaults={"user": user}
    )
    if subscription.confirmed_at is None:
        if user is not None:
            subscription.user = user
            subscription.confirmed_at = timezone.now()
            subscription.save(update_fields=["user", "confirmed_at"])
        else:
            enqueue_with_transaction(
                send_subscription_confirmation_task, subscription.pk
            )
    return subscription


@transaction.atomic
def subscription_confirm(*, raw_token: str) -> Subscription:
    token = token_use(raw_token, TokenPurpose.CONFIRM_SUBSCRIPTION)
    subscription = token.subscription
    if subscription.confirmed_at is None:
        subscription.confirmed_at = timezone.now()
        subscription.save(update_fields=["confirmed_at"])
    return subscription


def subscription_end(*, subscription_id: int) -> None:
    """Stop following a report (the unsubscribe link)."""
    Subscription.objects.filter(pk=subscription_id).delete()


def reports_nearby(
    *, lat: float, lon: float, category: Category, meters: float | None = None
) -> list[tuple[Report, float]]:
    """Open public reports in the same category within ``meters``, nearest first."""
    return reports_within(
        Report.objects.public().filter(category=category, status__in=OPEN_STATUSES),
        lat=lat,
        lon=lon,
        meters=meters or settings.KNUTPUNKT_NEARBY_METERS,
    )


def reports_within(
    reports, *, lat: float, lon: float, meters: float, candidates: int = 200
) -> list[tuple[Report, float]]:
    """Those of ``reports`` within ``meters`` of the point, nearest first, with
    their distance: the box around the circle from the map's index, then the
    distance of at most ``candidates`` of them."""
    dlat = meters / 111_195.0
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    found = []
    for report in reports.filter(
        lat__range=(lat - dlat, lat + dlat), lon__range=(lon - dlon, lon + dlon)
    )[:candidates]:
        distance = haversine_m(lat, lon, report.lat, report.lon)
        if distance <= meters:
            found.append((report, distance))
    return sorted(found, key=lambda pair: pair[1])


@transaction.atomic
def report_transition(
    *, actor, report_id: int, status: ReportStatus, note: str = ""
) -> ReportEvent | None:
    """Change a confirmed report's status (with an optional public note) as a
    member of staff who may (municipalities.staff.staff_status_scope, checked
    here); one event per change, broadcast to watchers after commit. None when
    nothing changed."""
    report = (
        Report.objects.select_for_update()
        .filter(staff_status_scope(actor), pk=report_id)
        .first()
    )
    if report is None:
        raise PermissionDenied("This report's status is not yours to change.")
    if report.status == ReportStatus.UNCONFIRMED or status == ReportStatus.UNCONFIRMED:
        raise ValidationError(
            {"status": _("An unconfirmed report's status cannot be changed.")}
        )
    note = note.strip()
    if status == report.status and not note:
        return None
    now = timezone.now()
    before = report.status
    kind = EventKind.STATUS if status != report.status else EventKind.NOTE
    if status != report.status:
        report.status = status
        report.status_changed_at = now
        transaction.on_commit(map_changed)
    report.status_as_of = max(now, report.status_as_of or now)
    report.save(
        update_fields=["status", "status_changed_at", "status_as_of", "updated_at"]
    )
    event = event_record(
        report=report,
        actor=Actor.staff(actor),
        kind=kind,
        status=status,
        note=note,
        happened_at=now,
    )
    audit_record(
        actor=actor,
        action="report.status",
        target=report,
        municipality=report.municipality_id,
        before={"status": before},
        after={"status": str(status), **({"reply": note} if note else {})},
    )
    return event
