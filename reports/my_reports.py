""" "Mina sidor": a reporter's own reports across kommuner, for a signed-in user
or, without an account, for the e-mail address a magic link proved.

The magic link is a signed, timestamped token of the address (valid
``LINK_MAX_AGE``); opening it remembers the address in the visitor's session.
"""

from __future__ import annotations

from django.core import signing
from django.db.models import Max, QuerySet

from .models import Report, ReportEvent

SESSION_KEY = "my_reports_email"
LINK_MAX_AGE = 24 * 3600
_SALT = "knutpunkt.reports.my_reports"


def my_reports(*, user, session) -> QuerySet[Report] | None:
    """The visitor's reports, newest first; None when we do not know who they are."""
    reports = Report.objects.select_related("municipality", "category", "body")
    if user is not None and user.is_authenticated:
        return reports.filter(reporter=user)
    email = session.get(SESSION_KEY) if session is not None else None
    if email:
        return reports.filter(email=email)
    return None


def my_reports_latest_event(reports: QuerySet[Report]) -> int:
    """The id of the newest public event of these reports (0: none yet)."""
    latest = ReportEvent.objects.filter(
        report__in=reports.order_by().values("pk"), is_public=True
    ).aggregate(latest=Max("pk"))["latest"]
    return latest or 0


def magic_link_token(email: str) -> str:
    return signing.dumps(email.strip().lower(), salt=_SALT)


def email_from_magic_link(token: str) -> str | None:
    try:
        return signing.loads(token, salt=_SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return None
