"""The daily e-mail of overdue reports to each body's case handlers.

Once a day per kommun, from ``KNUTPUNKT_DIGEST_HOUR`` (Stockholm time, 7 by
default), every case handler of the kommun with an e-mail address is sent the
open reports of their bodies (all the kommun's bodies when their role lists
none) whose promise fell due before the digest is made (workspace.due), oldest
first, each with a link to its screen in the admin built from the configured
admin address (``WAGTAILADMIN_BASE_URL``, through reports.mail.root_url),
never from a request. A handler with no overdue report gets nothing. The mail
is in the handler's language (their admin profile's, else Swedish), with
days as Stockholm dates; it names no reporter and carries no contact details.

**Only on the kommun's working days** (its calendar, workspace.due):
promises are counted in working days, so nothing new falls overdue on a day
off, and nobody should be mailed on Christmas Day. The first working day after
days off lists everything then overdue.

**Exactly once**: a scheduler thread runs in every process that works the task
queue (``manage.py worker``, and ``serve`` in the embedded default). Once a
minute, from the hour, it claims the day of each participating kommun that has
none yet by writing its ``DigestDay`` row (unique per kommun and day) and, in
the same transaction, queueing the task that sends it
(infra.tasks.enqueue_with_transaction; workspace.digest_schedule). A second
process's claim of the same day fails on the unique constraint and queues
nothing; the task itself does nothing for a day already sent.
``manage.py send_overdue_digest`` claims and sends a day by hand.

One digest per kommun: a handler working in two kommuner gets one from each.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from wagtail.users.models import UserProfile

from infra.moments import moment_format
from municipalities.choices import StaffRole
from municipalities.models import Municipality, StaffMembership
from municipalities.promises import calendar_for
from municipalities.workdays import WorkingDays
from reports.mail import root_url
from reports.models import Report

from .due import OVERDUE, due_last_day, overdue_q
from .models import DigestDay

logger = logging.getLogger("knutpunkt.digest")

# What a digest says of each report: nothing of the reporter's.
REPORT_FIELDS = (
    "pk",
    "title",
    "body_id",
    "category__name",
    "body__name",
    "due_at",
    "first_response_at",
)


@dataclass
class Digest:
    """One handler's mail: who, in which language, and their overdue reports."""

    user_id: int
    name: str
    email: str
    language: str
    reports: list[dict] = field(default_factory=list)


def _language(preferred: str | None) -> str:
    known = {code for code, _name in settings.LANGUAGES}
    return preferred if preferred in known else "sv"


def digests_for(*, municipality_id: int, now: dt.datetime) -> list[Digest]:
    """Each active case handler of the kommun with an e-mail address and at
    least one overdue report of their bodies, with those reports."""
    overdue = list(
        Report.objects.filter(overdue_q(now), municipality_id=municipality_id)
        .order_by("due_at", "pk")
        .values(*REPORT_FIELDS)
    )
    if not overdue:
        return []
    memberships = (
        StaffMembership.objects.filter(
            municipality_id=municipality_id,
            role=StaffRole.CASE_HANDLER,
            user__is_active=True,
        )
        .exclude(user__email="")
        .select_related("user")
        .prefetch_related("bodies")
    )
    digests = []
    for membership in memberships:
        bodies = {body.pk for body in membership.bodies.all()}
        theirs = [r for r in overdue if not bodies or r["body_id"] in bodies]
        if theirs:
            user = membership.user
            digests.append(
                Digest(
                    user_id=user.pk,
                    name=user.get_full_name() or user.username,
                    email=user.email,
                    language="sv",
                    reports=theirs,
                )
            )
    languages = dict(
        UserProfile.objects.filter(
            user_id__in=[d.user_id for d in digests]
        ).values_list("user_id", "preferred_language")
    )
    for digest in digests:
        digest.language = _language(languages.get(digest.user_id))
    return digests


def _render(
    digest: Digest, *, kommun: str, calendar: WorkingDays, now: dt.datetime
) -> tuple[str, str]:
    base = root_url(None).rstrip("/")
    with translation.override(digest.language):
        reports = [
            {
                "number": r["pk"],
                "title": r["title"],
                "category": r["category__name"],
                "body": r["body__name"],
                "first_response": r["first_response_at"] is None,
                "day": moment_format(
                    due_last_day(calendar, r["due_at"]), with_time=False
                ),
                "url": base + reverse("inbox:inspect", args=[r["pk"]]),
            }
            for r in digest.reports
        ]
        context = {
            "name": digest.name,
            "kommun": kommun,
            "reports": reports,
            "count": len(reports),
            "as_of": moment_format(now),
            "inbox_url": f"{base}{reverse('inbox:index')}?due={OVERDUE}&ordering=due_at",
        }
        subject = render_to_string(
            "workspace/email/overdue_digest_subject.txt", context
        )
        body = render_to_string("workspace/email/overdue_digest.txt", context)
    return " ".join(subject.split()), body


def digest_send(
    *,
    municipality_id: int,
    day: dt.date,
    now: dt.datetime | None = None,
    again: bool = False,
) -> int:
    """Send the kommun's digest of ``day`` (claimed first: ``digest_claim``)
    and mark the day sent; nothing for a day already sent unless ``again``.
    Returns how many mails were sent."""
    claim = DigestDay.objects.filter(municipality_id=municipality_id, day=day).first()
    if claim is None or (claim.sent_at is not None and not again):
        return 0
    now = now or timezone.now()
    kommun = Municipality.objects.get(pk=municipality_id).name
    calendar = calendar_for(municipality_id)
    sent = 0
    for digest in digests_for(municipality_id=municipality_id, now=now):
        subject, body = _render(digest, kommun=kommun, calendar=calendar, now=now)
        EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[digest.email],
        ).send()
        sent += 1
    DigestDay.objects.filter(pk=claim.pk).update(sent_at=timezone.now(), mails=sent)
    logger.info("Overdue digest of kommun %s for %s: %d mails", kommun, day, sent)
    return sent
