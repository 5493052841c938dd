"""The platform's own data about a person, as sections of the export and the
erasure (``infra.personal_data``, registered in ``citizens.apps``): their
reports (with the consents given on each, their timeline and which case
systems were given their contact details), what they follow, and what is kept
of the e-mail sent to them.

Erasing a report keeps the report public, as FixMyStreet's anonymisation
does: the reporter's name, e-mail address and phone number are removed, the
consents cleared and the account unlinked; title, description, place and
photos stay (they were public). The case systems that were given the contact
details are told, through the outbox (``casehub.outbox.erasure_notices_queue``).
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from casehub.choices import DeliveryKind
from casehub.models import Delivery
from casehub.outbox import contact_connections, erasure_notices_queue
from infra.personal_data import DataSubject
from reports.choices import EventKind
from reports.events import Actor, event_record
from reports.mail import link
from reports.models import Alert, MyReportsLink, Report, Subscription
from reports.tokens import report_links_end


def _moment(value) -> str | None:
    return value.isoformat() if value is not None else None


def _reports_of(subject: DataSubject):
    who = Q(email__in=subject.emails) if subject.emails else Q(pk__in=[])
    if subject.user is not None:
        who |= Q(reporter=subject.user)
    return Report.objects.filter(who)


def _follows_of(subject: DataSubject):
    who = Q(email__in=subject.emails) if subject.emails else Q(pk__in=[])
    if subject.user is not None:
        who |= Q(user=subject.user)
    return Subscription.objects.filter(who)


def reports_export(subject: DataSubject) -> list[dict]:
    reports = (
        _reports_of(subject)
        .select_related("municipality", "category", "body", "filed_on_site")
        .prefetch_related("photos", "events")
        .order_by("created_at", "pk")
    )
    shared = {}
    for report_id, body, delivered_at in (
        Delivery.objects.filter(
            kind=DeliveryKind.CASE, report__in=reports.order_by().values("pk")
        )
        .filter(Q(report__share_contact=True) | Q(connection__send_contact=True))
        .exclude(delivered_at=None)
        .values_list("report_id", "connection__body__name", "delivered_at")
    ):
        shared.setdefault(report_id, []).append(
            {"body": body, "at": _moment(delivered_at)}
        )
    return [
        {
            "id": report.pk,
            "url": link(report, "report-detail", report.pk),
            "title": report.title,
            "description": report.description,
            "answers": report.extra,
            "address": report.address,
            "lat": report.lat,
            "lon": report.lon,
            "kommun": report.municipality.name,
            "category": report.category.name,
            "body": report.body.name,
            "status": report.status,
            "channel": report.channel,
            "language": report.language,
            "made_at": _moment(report.created_at),
            "confirmed_at": _moment(report.confirmed_at),
            "name": report.name,
            "email": report.email,
            "phone": report.phone,
            "consents": {
                "show_name": report.show_name,
                "share_contact": report.share_contact,
            },
            "contact_details_given_to": shared.get(report.pk, []),
            "photos": [photo.image.url for photo in report.photos.all()],
            "timeline": [
                {
                    "kind": event.kind,
                    "status": event.status,
                    "note": event.note,
                    "by": event.actor_kind,
                    "at": _moment(event.happened_at or event.created_at),
                }
                for event in report.events.all()
                if event.is_public
            ],
        }
        for report in reports
    ]


def reports_erase(subject: DataSubject) -> dict[str, int]:
    reports = list(_reports_of(subject).select_for_update().order_by("pk"))
    notices = 0
    for report in reports:
        # Who was given the contact details is read before they go.
        told = contact_connections(report=report)
        event = event_record(
            report=report,
            actor=Actor.reporter(),
            kind=EventKind.ERASED,
            is_public=False,
        )
        notices += len(erasure_notices_queue(event=event, connection_ids=told))
    Report.objects.filter(pk__in=[r.pk for r in reports]).update(
        reporter=None,
        name="",
        email="",
        phone="",
        show_name=False,
        share_contact=False,
        # Nobody is left to ask "is it fixed?".
        questionnaire_due_at=None,
    )
    # Nor to answer what was asked: an old link says its report is gone.
    report_links_end(report_ids=[r.pk for r in reports])
    return {"reports": len(reports), "case_system_notices": notices}


def follows_export(subject: DataSubject) -> list[dict]:
    return [
        {
            "report": follow.report_id,
            "report_title": follow.report.title,
            "email": follow.email,
            "since": _moment(follow.created_at),
            "confirmed_at": _moment(follow.confirmed_at),
        }
        for follow in _follows_of(subject).select_related("report").order_by("pk")
    ]


def follows_erase(subject: DataSubject) -> dict[str, int]:
    count, _ = _follows_of(subject).delete()
    return {"follows": count}


def _alerts_of(subject: DataSubject):
    who = Q(email__in=subject.emails) if subject.emails else Q(pk__in=[])
    if subject.user is not None:
        who |= Q(user=subject.user)
    return Alert.objects.filter(who)


def alerts_export(subject: DataSubject) -> list[dict]:
    return [
        {
            "kind": alert.kind,
            "email": alert.email,
            "phone": alert.phone,
            "phone_verified_at": _moment(alert.phone_verified_at),
            "lat": alert.lat,
            "lon": alert.lon,
            "radius_m": alert.radius_m,
            "kommun": alert.municipality.name if alert.municipality else None,
            "category": alert.category.name if alert.category else None,
            "since": _moment(alert.created_at),
            "confirmed_at": _moment(alert.confirmed_at),
        }
        for alert in _alerts_of(subject)
        .select_related("municipality", "category")
        .order_by("pk")
    ]


def alerts_erase(subject: DataSubject) -> dict[str, int]:
    count, _ = _alerts_of(subject).delete()
    return {"alerts": count}


# No copy of an e-mail sent is kept: what was sent is the report's page and
# timeline at the time (in the "reports" section). What is kept is the links
# sent to prove an address, each for a short while.
EMAILS_KEPT = _(
    "Knutpunkt keeps no copy of the e-mail it sends. It sends: the link that "
    "confirms a report or a follow, a receipt for a report filed by phone or "
    "at a visit, the news of a report you follow (its timeline, above), and "
    "links that prove your address (Mina sidor, sign-up, sign-in, your data), "
    "of which it keeps when each was sent, until when it worked and whether "
    "it was used, for at most a day after it expired."
)


def emails_export(subject: DataSubject) -> dict:
    return {
        "copies_kept": False,
        "what_is_kept": str(EMAILS_KEPT),
        "address_links": [
            {
                "purpose": sent.purpose,
                "sent_at": _moment(sent.created_at),
                "expires_at": _moment(sent.expires_at),
                "used_at": _moment(sent.used_at),
            }
            for sent in MyReportsLink.objects.filter(email__in=subject.emails).order_by(
                "pk"
            )
        ],
    }


def emails_erase(subject: DataSubject) -> dict[str, int]:
    count, _ = MyReportsLink.objects.filter(email__in=subject.emails).delete()
    return {"address_links": count}
