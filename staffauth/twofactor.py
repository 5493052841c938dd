"""Two-factor sign-in for staff: a TOTP authenticator app (RFC 6238), with single-use
backup codes (django-otp's TOTP and static devices).

Optional for every member of staff; required for kommun administrators and
superusers (``second_factor_required``), who are sent to enrol on their next
sign-in before anything else in the admin (``staffauth.middleware``). Wrong codes
are throttled by django-otp: after each failure the device refuses every code,
right or wrong, for a delay that doubles (``OTP_TOTP_THROTTLE_FACTOR`` seconds, then
twice that...).

A sign-in through a kommun's identity provider (``staffauth.oidc``) asks for no code
here: the provider enforces its own multi-factor policy.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass

import django_otp
import segno
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from municipalities.staff import staff_is_kommun_admin

BACKUP_CODES = 10
# The session key saying the member of staff signed in through their kommun's
# identity provider (whose name it holds), which enforces its own second factor.
OIDC_SESSION_KEY = "staffauth_signed_in_with"


def second_factor_required(user) -> bool:
    """Kommun administrators and superusers must use a second factor (unless
    ``KNUTPUNKT_STAFF_TWO_FACTOR_REQUIRED`` is off)."""
    if not settings.KNUTPUNKT_STAFF_TWO_FACTOR_REQUIRED:
        return False
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or staff_is_kommun_admin(user)


def second_factor_enrolled(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_satisfied(request) -> bool:
    """Whether this session has passed the second factor, or needs none."""
    user = request.user
    if not user.is_authenticated:
        return True
    return _satisfied(user, request.session, verified=user.is_verified())


def second_factor_satisfied_in_session(user, session) -> bool:
    """The same for a user and session without a request (a websocket): verified
    when the session names one of the user's confirmed devices."""
    if user is None or not user.is_authenticated:
        return True
    device = Device.from_persistent_id(session.get(DEVICE_ID_SESSION_KEY) or "")
    verified = device is not None and device.user_id == user.pk and device.confirmed
    return _satisfied(user, session, verified=verified)


def _satisfied(user, session, *, verified: bool) -> bool:
    if session.get(OIDC_SESSION_KEY) or verified:
        return True
    return not second_factor_enrolled(user) and not second_factor_required(user)


def totp_enrolment_start(user) -> TOTPDevice:
    """The unconfirmed authenticator being set up (kept until confirmed, so a page
    reload shows the same secret)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="authenticator", confirmed=False
        )
    return device


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, as authenticator apps take it typed in
    qr_svg: str  # an inline SVG of the otpauth:// URI


def totp_enrolment_show(device: TOTPDevice) -> Enrolment:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    qr = segno.make(device.config_url, error="m")
    return Enrolment(
        secret=secret,
        qr_svg=qr.svg_inline(scale=5, dark="#000", light="#fff", omitsize=False),
    )


@transaction.atomic
def totp_enrolment_confirm(request, *, code: str) -> list[str] | None:
    """Confirm the authenticator being set up with a code from it: on success the
    session is verified and the new backup codes are returned (shown once); None
    for a wrong code (throttled like any other)."""
    user = request.user
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .first()
    )
    if device is None or not device.verify_token(_digits(code)):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = _backup_codes_renew(user)
    django_otp.login(request, device)
    return codes


def _backup_codes_renew(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(
        [StaticToken(device=static, token=token) for token in codes]
    )
    return codes


@dataclass(frozen=True)
class Verification:
    ok: bool
    wait_seconds: int = 0  # >0: refused unread, throttled


def second_factor_verify(request, *, code: str) -> Verification:
    """Check a code from the authenticator (six digits) or a backup code; on
    success the session is verified."""
    user = request.user
    code = code.strip().replace(" ", "").lower()
    if code.isdigit():
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        code = _digits(code)
    else:
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return Verification(ok=False)
    allowed, detail = device.verify_is_allowed()
    if not allowed:
        return Verification(ok=False, wait_seconds=_wait(detail))
    if device.verify_token(code):
        django_otp.login(request, device)
        return Verification(ok=True)
    return Verification(ok=False)


def _digits(code: str) -> str:
    return "".join(code.split())


def _wait(detail: dict | None) -> int:
    until = (detail or {}).get("locked_until")
    if until is None:
        return 1
    return max(1, math.ceil((until - timezone.now()).total_seconds()))


def second_factor_disable(user) -> None:
    """Remove the user's authenticator and backup codes; refused for those who
    must use a second factor."""
    if second_factor_required(user):
        raise PermissionDenied("A second factor is required for this account.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
