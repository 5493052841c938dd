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
from .models import Alert, EmailToken, Report, Subscription


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


def token_used_report(*, raw: str, purpose: TokenPurpose) -> Report | None:
    """The report of a link that was used already (a confirmation opened a
    second time), to take its reader there; None for any other link."""
    token = (
        EmailToken.objects.select_related("report")
        .filter(token_hash=_hash(raw), purpose=purpose, used_at__isnull=False)
        .first()
    )
    return token.report if token is not None else None
