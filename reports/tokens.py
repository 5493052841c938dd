"""Single-use, expiring links sent by e-mail (confirming a report, following
one, answering "is it fixed?", confirming an alert); only a hash of each
token is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import TokenPurpose
from .models import Alert, EmailToken, Questionnaire, Report, Subscription


def token_hash(raw: str) -> str:
    """What is stored of a token (and all that identifies it afterwards)."""
    return hashlib.sha256(raw.encode()).hexdigest()


_hash = token_hash


def token_issue(
    *,
    purpose: TokenPurpose,
    report: Report | None = None,
    subscription: Subscription | None = None,
    alert: Alert | None = None,
    ttl: timedelta | None = None,
) -> str:
    """A new single-use token; only its hash is stored, the raw value goes by mail.
    It expires after ``ttl`` (default: the confirmation links' hours)."""
    raw = secrets.token_urlsafe(32)
    EmailToken.objects.create(
        purpose=purpose,
        token_hash=_hash(raw),
        report=report,
        subscription=subscription,
        alert=alert,
        expires_at=timezone.now()
        + (ttl or timedelta(hours=settings.KNUTPUNKT_CONFIRMATION_TTL_HOURS)),
    )
    return raw


class TokenInvalid(Exception):
    """The link is unknown, used or expired; the message tells the citizen which."""


def token_use(raw: str, purpose: TokenPurpose) -> EmailToken:
    token = (
        EmailToken.objects.select_for_update(of=("self",))
        .select_related("report", "subscription", "alert")
        .filter(token_hash=_hash(raw), purpose=purpose)
        .first()
    )
    if token is None:
        raise TokenInvalid(_("This link is not valid."))
    if token.used_at is not None:
        raise TokenInvalid(_("This link has already been used."))
    if token.expires_at < timezone.now():
        raise TokenInvalid(_("This link has expired."))
    token.used_at = timezone.now()
    token.save(update_fields=["used_at"])
    return token


def token_peek(*, raw: str, purpose: TokenPurpose) -> Report:
    """The report a still-usable token is for, without using it."""
    return token_peek_token(raw=raw, purpose=purpose).report


def token_peek_token(*, raw: str, purpose: TokenPurpose) -> EmailToken:
    """A still-usable token (with what it is for), without using it."""
    token = (
        EmailToken.objects.select_related("report", "alert")
        .filter(token_hash=_hash(raw), purpose=purpose, used_at__isnull=True)
        .first()
    )
    if token is None or token.expires_at < timezone.now():
        raise TokenInvalid(_("This link is not valid, used or expired."))
    return token


class LinkReportGone(TokenInvalid):
    """A link whose report is gone: deleted, or its reporter's data erased."""


def token_used_report(*, raw: str, purpose: TokenPurpose) -> Report | None:
    """The report a link used already leads back to (a confirmation opened a
    second time, a question answered), to take its reader there; None for a
    link that was never used (unknown, or expired unused). LinkReportGone for
    an "is it fixed?" link whose report is gone since.

    An "is it fixed?" link is remembered by its questionnaire, which outlives
    both its token and its report; any other link by its token, which goes
    with its report."""
    if purpose == TokenPurpose.QUESTIONNAIRE:
        questionnaire = (
            Questionnaire.objects.select_related("report")
            .filter(token_hash=_hash(raw))
            .first()
        )
        if questionnaire is None:
            return None
        if questionnaire.report_id is None:
            raise LinkReportGone(_("This link is not valid."))
        return questionnaire.report if questionnaire.answered_at is not None else None
    token = (
        EmailToken.objects.select_related("report")
        .filter(token_hash=_hash(raw), purpose=purpose, used_at__isnull=False)
        .first()
    )
    return token.report if token is not None else None


def report_links_end(*, report_ids: list[int]) -> None:
    """The reports' reporter was erased: nobody is left to answer what was
    asked. Their "is it fixed?" links go, and their unanswered questionnaires
    (kept for the statistics) no longer name the report, so that an old link
    says its report is gone (``token_used_report``)."""
    EmailToken.objects.filter(
        report_id__in=report_ids, purpose=TokenPurpose.QUESTIONNAIRE
    ).delete()
    Questionnaire.objects.filter(
        report_id__in=report_ids, answered_at__isnull=True
    ).update(report=None)
