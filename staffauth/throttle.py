"""Failed sign-ins and password-reset requests are throttled per account and per
client address.

Sign-ins: django-axes records each failure (account, address, browser) in the
database, so every process shares it, on SQLite and PostgreSQL alike. Three rules
hold at once (``KNUTPUNKT_STAFF_LOGIN_LIMITS``), each counted over the cool-off:

- an account from one address (the usual case: someone guessing one password);
- an address, whatever the accounts (someone trying many accounts), set higher so
  that a kommun's office behind one address is not locked out by a few typos;
- an account, from whatever addresses (a spread-out guess), set higher still, so
  that nobody can lock a colleague out cheaply.

Axes has one limit; this handler asks each rule and reports the number of rules
exhausted, against ``AXES_FAILURE_LIMIT = 1``. A right password during a lockout
does not sign in (axes' backend refuses before the password is checked). A
successful sign-in clears that account's failures from that address only: the
address's and the account's totals from elsewhere keep counting, so signing in to
one's own account does not buy an attacker more guesses at another.

The client's address is ``infra.ratelimit.client_address`` (the trusted-proxy rule).
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.db.models import Sum
from django.shortcuts import render
from django.utils.translation import ngettext
from wagtail.admin.views.account import LoginView

from infra.ratelimit import rate_limit_hit


def _limits() -> dict:
    return settings.KNUTPUNKT_STAFF_LOGIN_LIMITS


class StaffLoginHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit of its own for each lockout parameter
    (``AXES_LOCKOUT_PARAMETERS``: account and address, address, account)."""

    def _rules(self, request, credentials) -> list[tuple[int, int]]:
        """(failures within the cool-off, limit) for each rule, in the order of
        ``AXES_LOCKOUT_PARAMETERS``."""
        limits = _limits()
        wanted = (limits["account_address"], limits["address"], limits["account"])
        counts = [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        return list(zip(counts, wanted, strict=True))

    def get_failures(self, request, credentials=None) -> int:
        """The number of rules whose limit is reached (see the module's doc)."""
        return sum(
            1 for count, limit in self._rules(request, credentials) if count >= limit
        )

    def reset_user_attempts(self, request, credentials=None) -> int:
        """After a successful sign-in: forget that account's failures from that
        address, and nothing else."""
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address
        ).delete()
        return count


def cool_off_minutes() -> int:
    return int(_limits()["cooloff_minutes"])


def lockout_response(request, *_args):
    """The admin's sign-in page with a clear message, answered 429.

    Axes calls this with (request, original response, credentials), or (request,
    credentials) from its asynchronous path; neither is needed here.
    """
    minutes = cool_off_minutes()
    messages.error(
        request,
        ngettext(
            "Too many failed sign-in attempts. Sign-in is paused for %(minutes)d "
            "minute; a right password is not accepted until then.",
            "Too many failed sign-in attempts. Sign-in is paused for %(minutes)d "
            "minutes; a right password is not accepted until then.",
            minutes,
        )
        % {"minutes": minutes},
    )
    view = LoginView()
    view.setup(request)
    # An empty form: binding one would run authenticate() (and axes) again.
    form = view.get_form_class()(request, initial=None)
    context = view.get_context_data(form=form)
    response = render(request, view.template_name, context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def password_reset_wait(request, email: str) -> int:
    """Count one password-reset request, per client address and per account (the
    e-mail address, hashed so the cache holds none): 0 when it may be sent, else
    the seconds to wait. Limits: ``KNUTPUNKT_RATE_LIMITS['password_reset_address']``
    and ``['password_reset_account']``."""
    by_address = rate_limit_hit(request, "password_reset_address")
    by_account = rate_limit_hit(
        request, "password_reset_account", key=email.strip().lower()
    )
    return max(by_address or 0, by_account or 0)


def password_reset_refused_message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return ngettext(
        "Too many password-reset requests. No e-mail was sent; try again in "
        "%(minutes)d minute.",
        "Too many password-reset requests. No e-mail was sent; try again in "
        "%(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
