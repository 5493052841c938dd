"""Codes of an authenticator app, computed as the app does (RFC 6238)."""

import base64
import time

from django_otp.oath import TOTP


def totp_now(secret: str) -> str:
    """The code an app shows now for ``secret``, the base32 text the enrolment
    page gives beside its QR code."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key)
    totp.time = time.time()
    return f"{totp.token():06d}"
