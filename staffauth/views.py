"""Thin views of staff sign-in; the rules are in ``throttle``, ``twofactor`` and
``oidc``."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from wagtail.admin.views.account import PasswordResetView

from infra.ratelimit import rate_limited

from . import oidc, twofactor
from .forms import CodeForm, EnrolForm
from .throttle import password_reset_refused_message, password_reset_wait

logger = logging.getLogger("knutpunkt.staffauth")


def _next_url(request) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("wagtailadmin_home")


class ThrottledPasswordResetView(PasswordResetView):
    """Wagtail's password reset, counted per client address and per e-mail
    address: beyond the limit the form says so (429) and no e-mail is sent."""

    def form_valid(self, form):
        wait = password_reset_wait(self.request, form.cleaned_data["email"])
        if wait:
            form.add_error(None, password_reset_refused_message(wait))
            response = self.render_to_response(
                self.get_context_data(form=form), status=429
            )
            response["Retry-After"] = str(wait)
            return response
        return super().form_valid(form)


@login_required
def verify(request):
    """The second step of signing in: a code from the authenticator app or a
    backup code."""
    if not twofactor.second_factor_enrolled(request.user):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        result = twofactor.second_factor_verify(request, code=form.cleaned_data["code"])
        if result.ok:
            return redirect(_next_url(request))
        if result.wait_seconds:
            status = 429
            form.add_error(
                "code",
                ngettext(
                    "Too many wrong codes. Wait %(seconds)d second and try again.",
                    "Too many wrong codes. Wait %(seconds)d seconds and try again.",
                    result.wait_seconds,
                )
                % {"seconds": result.wait_seconds},
            )
        else:
            status = 400
            form.add_error("code", _("That code is not right. Try again."))
    elif request.method == "POST":
        status = 400
    response = render(
        request,
        "staffauth/verify.html",
        {"form": form, "next": _next_url(request)},
        status=status,
    )
    if status == 429:
        response["Retry-After"] = str(result.wait_seconds)
    return response


@login_required
def enrol(request):
    """Set up an authenticator app: a QR code and the secret as text, confirmed by
    one code from the app; then the backup codes, shown once."""
    if not twofactor.second_factor_satisfied(request) and (
        twofactor.second_factor_enrolled(request.user)
    ):
        # Replacing an authenticator takes the current one first: a password
        # alone must not swap it.
        return redirect(f"{reverse('staffauth_verify')}?{request.GET.urlencode()}")
    device = twofactor.totp_enrolment_start(request.user)
    form = EnrolForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            codes = twofactor.totp_enrolment_confirm(
                request, code=form.cleaned_data["code"]
            )
            if codes is not None:
                return render(
                    request,
                    "staffauth/backup_codes.html",
                    {"codes": codes, "next": _next_url(request)},
                )
            form.add_error(
                "code",
                _(
                    "That code is not right. Check the time on your phone and "
                    "try the newest code."
                ),
            )
    return render(
        request,
        "staffauth/enrol.html",
        {
            "form": form,
            "enrolment": twofactor.totp_enrolment_show(device),
            "required": twofactor.second_factor_required(request.user),
            "next": _next_url(request),
        },
        status=status,
    )


@login_required
def two_factor(request):
    """The member of staff's own two-factor settings (from their account page)."""
    return render(
        request,
        "staffauth/two_factor.html",
        {
            "enrolled": twofactor.second_factor_enrolled(request.user),
            "required": twofactor.second_factor_required(request.user),
        },
    )


@login_required
@require_POST
def two_factor_disable(request):
    try:
        twofactor.second_factor_disable(request.user)
    except PermissionDenied:
        messages.error(
            request,
            _("Two-factor sign-in is required for your account and stays on."),
        )
        return redirect("staffauth_two_factor", permanent=False)
    messages.success(request, _("Two-factor sign-in is off."))
    return redirect("staffauth_two_factor")


# Starting a sign-in may fetch the provider's discovery document: counted per
# address, like the callback.
@rate_limited("staff_oidc")
def oidc_start(request, slug: str):
    provider = oidc.provider_for(slug)
    if provider is None:
        raise Http404
    try:
        url = oidc.sign_in_start(request, provider, _next_url(request))
    except oidc.SignInRefused as refused:
        logger.warning("OIDC sign-in for %s not started: %s", slug, refused.reason)
        messages.error(request, _provider_unreachable(provider))
        return redirect("wagtailadmin_login")
    return redirect(url)


@rate_limited("staff_oidc")
def oidc_callback(request, slug: str):
    provider = oidc.provider_for(slug)
    if provider is None:
        raise Http404
    if request.GET.get("error"):
        # The provider said no (the person cancelled, or is not allowed).
        request.session.pop(oidc.PENDING_SESSION_KEY, None)
        messages.error(request, _("Sign-in with your kommun's account was cancelled."))
        return redirect("wagtailadmin_login")
    try:
        next_url = oidc.sign_in_finish(
            request,
            provider,
            code=request.GET.get("code", ""),
            state=request.GET.get("state", ""),
        )
    except oidc.SignInRefused as refused:
        logger.warning("OIDC sign-in for %s refused: %s", slug, refused.reason)
        messages.error(
            request,
            _(
                "Sign-in with your %(kommun)s kommun account did not work, or that "
                "account is not a member of staff here. Nobody was signed in. Ask "
                "your kommun's administrator if you should have access."
            )
            % {"kommun": provider.municipality.name},
        )
        return redirect("wagtailadmin_login")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
        next_url = reverse("wagtailadmin_home")
    return redirect(next_url)


def _provider_unreachable(provider) -> str:
    return _(
        "The sign-in service of %(kommun)s kommun cannot be reached just now. "
        "Try again later, or sign in with your password."
    ) % {"kommun": provider.municipality.name}
