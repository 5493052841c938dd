"""The citizen's account pages and "My data", on the public sites (not the
admin). Every page about an address answers the same whether or not it has an
account: only the e-mail differs (``citizens.tasks``)."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from wagtail.models import Site

from infra.ratelimit import rate_limit_hit, rate_limited
from infra.tasks import enqueue_with_transaction
from municipalities.tenancy import tenant_for_request
from reports.mail import root_url
from reports.my_reports import SESSION_KEY as MY_REPORTS_EMAIL
from reports.my_reports import my_reports_link_usable, my_reports_link_use
from reports.tokens import TokenInvalid
from staffauth.oidc import SignInRefused

from . import oidc, services
from .forms import EmailForm, EraseForm, PasswordSetForm, PasswordSignInForm, SignUpForm
from .models import ErasureRecord
from .tasks import (
    send_my_data_link_task,
    send_sign_in_link_task,
    send_sign_up_link_task,
)

logger = logging.getLogger("knutpunkt.citizens")

BACKEND = "django.contrib.auth.backends.ModelBackend"
# Signed in by an e-mailed link in this session: a new password may be set
# without the old one (the link is the password reset).
LINK_SIGN_IN = "citizens_signed_in_by_link"
# The name given at sign-up, until the link is used.
SIGN_UP_NAME = "citizens_sign_up_name"


def _root(request) -> str:
    """The configured address of the site the request's host names."""
    return root_url(Site.objects.filter(pk=tenant_for_request(request).site_id).first())


def _citizen(request):
    return request.user if services.is_citizen(request.user) else None


def _sign_in(request, user, *, by_link: bool = False) -> None:
    services.citizen_data_join(user=user)
    auth_login(request, user, backend=BACKEND)
    if by_link:
        request.session[LINK_SIGN_IN] = True


def _ask_link(request, *, email: str, task) -> None:
    """Queue the link's e-mail unless the address asked too often (then the
    answer is the same and nothing is sent)."""
    if rate_limit_hit(request, "citizen_link_email", key=email) is None:
        enqueue_with_transaction(task, email, _root(request), get_language() or "sv")


@rate_limited("citizen_link", methods=("POST",))
@require_http_methods(["GET", "POST"])
def sign_up(request):
    if _citizen(request):
        return redirect("citizen-account")
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            email = services.normalise(form.cleaned_data["email"])
            request.session[SIGN_UP_NAME] = form.cleaned_data["name"]
            _ask_link(request, email=email, task=send_sign_up_link_task)
            return render(request, "citizens/link_sent.html", {"email": email})
        return render(request, "citizens/sign_up.html", {"form": form}, status=400)
    return render(request, "citizens/sign_up.html", {"form": form})


def _sign_in_page(request, *, form=None, link_form=None, status=200, **extra):
    return render(
        request,
        "citizens/sign_in.html",
        {
            "form": form or PasswordSignInForm(),
            "link_form": link_form or EmailForm(),
            "broker_name": oidc.broker_name() if oidc.broker() else "",
            "next": _next(request),
            **extra,
        },
        status=status,
    )


def _next(request) -> str:
    """Where to go after signing in: a path of this site, else Mina sidor."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted.startswith("/") and not wanted.startswith("//") and "\\" not in wanted:
        return wanted
    return reverse("my-reports")


@require_http_methods(["GET", "POST"])
def sign_in(request):
    """Sign in with a password; the page also offers a link by e-mail and
    e-legitimation. Throttled per client address and per address tried:
    past either, 429 with Retry-After, and the password is not checked."""
    if request.method == "GET":
        if _citizen(request):
            return redirect(_next(request))
        return _sign_in_page(request)
    form = PasswordSignInForm(request.POST)
    if not form.is_valid():
        return _sign_in_page(request, form=form, status=400)
    email = services.normalise(form.cleaned_data["email"])
    wait = max(
        rate_limit_hit(request, "citizen_sign_in") or 0,
        rate_limit_hit(request, "citizen_sign_in_account", key=email) or 0,
    )
    if wait:
        minutes = max(1, (wait + 59) // 60)
        form.add_error(
            None,
            ngettext(
                "Too many sign-in attempts. Wait %(minutes)d minute and try again.",
                "Too many sign-in attempts. Wait %(minutes)d minutes and try again.",
                minutes,
            )
            % {"minutes": minutes},
        )
        response = _sign_in_page(request, form=form, status=429)
        response["Retry-After"] = str(wait)
        return response
    user = services.citizen_password_check(
        email=email, password=form.cleaned_data["password"]
    )
    if user is None:
        # The same words for an unknown address, a wrong password, an account
        # without a password and a staff account.
        form.add_error(
            None,
            _(
                "That e-mail address and password do not match an account. "
                "Try again, or get a sign-in link by e-mail."
            ),
        )
        return _sign_in_page(request, form=form, status=400)
    _sign_in(request, user)
    return redirect(_next(request))


@rate_limited("citizen_link", methods=("POST",))
@require_POST
def sign_in_link_ask(request):
    form = EmailForm(request.POST)
    if not form.is_valid():
        return _sign_in_page(request, link_form=form, status=400)
    email = services.normalise(form.cleaned_data["email"])
    _ask_link(request, email=email, task=send_sign_in_link_task)
    return render(request, "citizens/link_sent.html", {"email": email})


def _link(request, token, *, purpose, use):
    """An e-mailed link: GET shows a button (mail scanners fetch links, and
    it works once), POST uses it. Unknown, used or expired: 410."""
    try:
        if request.method == "GET":
            if not my_reports_link_usable(token, purpose=purpose):
                raise TokenInvalid(_("This link is not valid, used or expired."))
            return render(request, "citizens/link_open.html", {"purpose": purpose})
        email = my_reports_link_use(token, purpose=purpose)
    except TokenInvalid as exc:
        return render(
            request,
            "citizens/link_invalid.html",
            {"reason": exc, "purpose": purpose},
            status=410,
        )
    return use(email)


@require_http_methods(["GET", "POST"])
@rate_limited("confirm")
def sign_up_link(request, token: str):
    def use(email):
        try:
            user = services.citizen_confirm(
                email=email, name=request.session.get(SIGN_UP_NAME, "")
            )
        except services.AccountRefused:
            return render(
                request,
                "citizens/link_invalid.html",
                {"reason": _("This link is not valid, used or expired.")},
                status=410,
            )
        _sign_in(request, user, by_link=True)
        return redirect("citizen-account")

    return _link(request, token, purpose=services.SIGN_UP, use=use)


@require_http_methods(["GET", "POST"])
@rate_limited("confirm")
def sign_in_link(request, token: str):
    def use(email):
        user = services.citizen_by_email(email)
        if user is None:  # erased since the link was sent
            return render(
                request,
                "citizens/link_invalid.html",
                {"reason": _("This link is not valid, used or expired.")},
                status=410,
            )
        _sign_in(request, user, by_link=True)
        return redirect("citizen-account")

    return _link(request, token, purpose=services.SIGN_IN, use=use)


@require_POST
def sign_out(request):
    auth_logout(request)
    return redirect("citizen-sign-in")


@require_http_methods(["GET", "POST"])
def account(request):
    user = _citizen(request)
    if user is None:
        return redirect(
            f"{reverse('citizen-sign-in')}?next={reverse('citizen-account')}"
        )
    may_set = request.session.get(LINK_SIGN_IN) or not user.has_usable_password()
    form = PasswordSetForm(request.POST or None, user=user)
    status = 200
    if request.method == "POST":
        if not may_set:
            status = 403
        elif form.is_valid():
            services.citizen_password_set(
                user=user, password=form.cleaned_data["password"]
            )
            # Keeps this browser signed in (the session's hash follows).
            auth_login(request, user, backend=BACKEND)
            request.session[LINK_SIGN_IN] = True
            return render(
                request,
                "citizens/account.html",
                _account_context(user, form=None, saved=True, may_set=True),
            )
        else:
            status = 400
    return render(
        request,
        "citizens/account.html",
        _account_context(user, form=form, may_set=may_set),
        status=status,
    )


def _account_context(user, *, form, may_set, saved=False) -> dict:
    citizen = user.citizen
    return {
        "account": user,
        "form": form,
        "may_set_password": may_set,
        "saved": saved,
        "has_password": user.has_usable_password(),
        "eid_connected": bool(citizen.eid_subject),
        "broker_name": oidc.broker_name() if oidc.broker() else "",
    }


# --- e-legitimation -------------------------------------------------------------


@rate_limited("citizen_eid")
def eid_start(request):
    if oidc.broker() is None:
        return render(request, "citizens/eid_unavailable.html", status=404)
    try:
        url = oidc.eid_start(request, root_url=_root(request), next_url=_next(request))
    except SignInRefused as refused:
        logger.warning("e-legitimation sign-in not started: %s", refused.reason)
        return render(request, "citizens/eid_unavailable.html", status=503)
    return redirect(url)


@rate_limited("citizen_eid")
def eid_callback(request):
    if oidc.broker() is None:
        return render(request, "citizens/eid_unavailable.html", status=404)
    if request.GET.get("error"):
        request.session.pop(oidc.PENDING_SESSION_KEY, None)
        return _sign_in_page(
            request,
            status=400,
            eid_error=_("Sign-in with e-legitimation was cancelled."),
        )
    try:
        user, connected = oidc.eid_finish(
            request,
            root_url=_root(request),
            code=request.GET.get("code", ""),
            state=request.GET.get("state", ""),
        )
    except SignInRefused as refused:
        logger.warning("e-legitimation sign-in refused: %s", refused.reason)
        message = _(
            "Sign-in with e-legitimation did not work, and nobody was signed in. "
            "If it is your first time, create an account with your e-mail address "
            "first, then connect your e-legitimation on your account page."
        )
        if services.is_citizen(request.user):
            return render(
                request,
                "citizens/account.html",
                {
                    **_account_context(request.user, form=None, may_set=False),
                    "eid_error": message,
                },
                status=400,
            )
        return _sign_in_page(request, status=400, eid_error=message)
    if connected:
        return redirect("citizen-account")
    _sign_in(request, user)
    return redirect("my-reports")


# --- my data --------------------------------------------------------------------


_MOMENT_KEYS = {"at", "since", "made_at", "created_at", "confirmed_at", "last_sign_in"}


def _readable(value):
    """The export with its moments as datetimes, for the page to show each
    the one way moments are shown (``infra.moments``)."""
    if isinstance(value, dict):
        return {
            key: (
                datetime.fromisoformat(item)
                if key in _MOMENT_KEYS and isinstance(item, str)
                else _readable(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_readable(item) for item in value]
    return value


def _subject(request):
    """Whom "My data" is about in this request, or None: a signed-in citizen,
    or an address an e-mailed link proved in this session (Mina sidor's or
    My data's)."""
    user = _citizen(request)
    email = request.session.get(MY_REPORTS_EMAIL, "")
    if user is None and not email:
        return None
    return services.data_subject(user=user, email=email if user is None else "")


@rate_limited("citizen_link", methods=("POST",))
@require_http_methods(["GET", "POST"])
def my_data(request):
    """Everything held about the visitor, readable and as JSON; or, for a
    visitor we do not know, a form to get a link by e-mail."""
    subject = _subject(request)
    if subject is None:
        form = EmailForm(request.POST or None)
        if request.method == "POST":
            if form.is_valid():
                email = services.normalise(form.cleaned_data["email"])
                _ask_link(request, email=email, task=send_my_data_link_task)
                return render(request, "citizens/link_sent.html", {"email": email})
            return render(request, "citizens/my_data.html", {"form": form}, status=400)
        return render(request, "citizens/my_data.html", {"form": form})
    if request.method == "POST":
        return redirect("my-data")
    export = services.personal_data_export(subject=subject)
    if request.GET.get("format") == "json":
        response = HttpResponse(
            json.dumps(export, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = (
            'attachment; filename="knutpunkt-my-data.json"'
        )
        response["Cache-Control"] = "no-store"
        return response
    response = render(
        request,
        "citizens/my_data.html",
        {"export": _readable(export), "erase_form": EraseForm(), "subject": subject},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@rate_limited("confirm")
def my_data_link(request, token: str):
    def use(email):
        request.session.cycle_key()
        request.session[MY_REPORTS_EMAIL] = email
        return redirect("my-data")

    return _link(request, token, purpose=services.MY_DATA, use=use)


@require_POST
def my_data_erase(request):
    subject = _subject(request)
    if subject is None:
        return redirect("my-data")
    form = EraseForm(request.POST)
    if not form.is_valid():
        export = services.personal_data_export(subject=subject)
        return render(
            request,
            "citizens/my_data.html",
            {"export": _readable(export), "erase_form": form, "subject": subject},
            status=400,
        )
    via = (
        ErasureRecord.Via.ACCOUNT
        if _citizen(request) is not None
        else ErasureRecord.Via.LINK
    )
    services.personal_data_erase(subject=subject, via=via)
    auth_logout(request)  # also forgets the proved address
    return render(request, "citizens/erased.html")
