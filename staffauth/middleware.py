"""Staff who must pass a second factor pass it before anything else."""

from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from .twofactor import (
    second_factor_enrolled,
    second_factor_required,
    second_factor_satisfied,
)

# What a signed-in member of staff may reach before the second factor: signing in
# and out, a password reset, the second-factor pages themselves, and what those
# pages load (the admin's translations for scripts and its icons).
OPEN_URL_NAMES = frozenset(
    {
        "wagtailadmin_login",
        "wagtailadmin_logout",
        "wagtailadmin_password_reset",
        "wagtailadmin_password_reset_done",
        "wagtailadmin_password_reset_confirm",
        "wagtailadmin_password_reset_complete",
        "wagtailadmin_javascript_catalog",
        "wagtailadmin_sprite",
        "staffauth_verify",
        "staffauth_enrol",
        "staffauth_oidc_start",
        "staffauth_oidc_callback",
    }
)


class SecondFactorMiddleware:
    """After the password, a member of staff with an authenticator is asked for a
    code, and one who must have one (``second_factor_required``) but has none is
    sent to set one up, from whatever page they ask for. Runs after django-otp's
    ``OTPMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and match.url_name in OPEN_URL_NAMES:
            return None
        if second_factor_satisfied(request):
            return None
        query = urlencode({"next": request.get_full_path()})
        user = request.user
        if second_factor_enrolled(user):
            return redirect(f"{reverse('staffauth_verify')}?{query}")
        if second_factor_required(user):
            return redirect(f"{reverse('staffauth_enrol')}?{query}")
        return None
