""" "Mina sidor": a reporter's own reports across kommuner, for a signed-in user
or, without an account, for the e-mail address a magic link proved.

The magic link carries a random token and nothing else; only the token's hash
is stored (``MyReportsLink``), with the address, an expiry
(``KNUTPUNKT_MY_REPORTS_LINK_TTL_MINUTES``) and when it was used. It works
once: using it remembers the address in the visitor's session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Alert, MyReportsLink, Report, ReportEvent
from .tokens import TokenInvalid

SESSION_KEY = "my_reports_email"


def my_reports(*, user, session) -> QuerySet[Report] | None:
    """The visitor's reports, newest first; None when we do not know who they are."""
    reports = Report.objects.select_related("municipality", "category", "body")
    if user is not None and user.is_authenticated:
        return reports.filter(reporter=user)
    email = session.get(SESSION_KEY) if session is not None else None
    if email:
        return reports.filter(email=email)
    return None


def my_alerts(*, user, session) -> QuerySet[Alert] | None:
    """The visitor's confirmed alerts, newest first, known as their reports
    are (``my_reports``): by account, or by the address a link proved."""
    alerts = Alert.objects.filter(confirmed_at__isnull=False).select_related(
        "municipality", "category"
    )
    if user is not None and user.is_authenticated:
        return alerts.filter(user=user).order_by("-confirmed_at", "-pk")
    email = session.get(SESSION_KEY) if session is not None else None
    if email:
        return alerts.filter(email=email).order_by("-confirmed_at", "-pk")
    return None


def my_reports_latest_event(reports: QuerySet[Report]) -> int:
    """The id of the newest public event of these reports (0: none yet)."""
    latest = ReportEvent.objects.filter(
        report__in=reports.order_by().values("pk"), is_public=True
    ).aggregate(latest=Max("pk"))["latest"]
    return latest or 0


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


MY_REPORTS = "my_reports"


def my_reports_link_issue(
    email: str, *, purpose: str = MY_REPORTS, minutes: int | None = None
) -> str:
    """A new single-use token proving ``email`` for ``purpose``; the raw value
    goes by mail only, its hash is stored. It works for ``minutes``
    (``KNUTPUNKT_MY_REPORTS_LINK_TTL_MINUTES`` unless given)."""
    raw = secrets.token_urlsafe(32)
    if minutes is None:
        minutes = settings.KNUTPUNKT_MY_REPORTS_LINK_TTL_MINUTES
    MyReportsLink.objects.create(
        token_hash=_hash(raw),
        purpose=purpose,
        email=email.strip().lower(),
        expires_at=timezone.now() + timedelta(minutes=minutes),
    )
    # Links that can no longer be used are of no further interest.
    MyReportsLink.objects.filter(
        expires_at__lt=timezone.now() - timedelta(days=1)
    ).delete()
    return raw


def my_reports_link_usable(raw: str, *, purpose: str = MY_REPORTS) -> bool:
    """Whether the token is known, unused and unexpired (without using it)."""
    return MyReportsLink.objects.filter(
        token_hash=_hash(raw),
        purpose=purpose,
        used_at__isnull=True,
        expires_at__gte=timezone.now(),
    ).exists()


@transaction.atomic
def my_reports_link_use(raw: str, *, purpose: str = MY_REPORTS) -> str:
    """Use the token once: the address it proves. TokenInvalid when it is
    unknown (or for another purpose), used or expired."""
    link = (
        MyReportsLink.objects.select_for_update()
        .filter(token_hash=_hash(raw), purpose=purpose)
        .first()
    )
    if link is None:
        raise TokenInvalid(_("This link is not valid."))
    if link.used_at is not None:
        raise TokenInvalid(_("This link has already been used."))
    if link.expires_at < timezone.now():
        raise TokenInvalid(_("This link has expired."))
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    return link.email
