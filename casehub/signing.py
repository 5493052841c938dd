"""Standard Webhooks signatures (https://www.standardwebhooks.com/): HMAC-SHA256
over ``{webhook-id}.{webhook-timestamp}.{body}`` with a ``whsec_`` secret.

Several secrets sign at once while one is being rotated; a receiver accepts a
message when any one of the signatures in the header is right.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

SECRET_PREFIX = "whsec_"  # noqa: S105 (a format prefix)


class SecretInvalid(ValueError):
    pass


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise SecretInvalid("A webhook secret starts with whsec_.")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise SecretInvalid("A webhook secret is whsec_ followed by base64.") from None
    if len(key) < 16:
        raise SecretInvalid("A webhook secret needs at least 16 bytes of key.")
    return key


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_headers(
    secrets: list[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every given secret."""
    keys = [secret_key(s) for s in secrets]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(k, msg_id, timestamp, body) for k in keys
        ),
    }


class SignatureInvalid(ValueError):
    """Why a signed message was refused (logged, and told to the sender)."""


def verify(
    secrets: list[str],
    headers,
    body: bytes,
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> str:
    """The message id of a correctly signed, fresh message, else SignatureInvalid.

    Any one of the connection's secrets may have signed it (rotation); each
    candidate signature is compared in constant time.
    """
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (msg_id and timestamp and signatures):
        raise SignatureInvalid(
            "missing webhook-id, webhook-timestamp or webhook-signature"
        )
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureInvalid("webhook-timestamp is not a number") from None
    now = time.time() if now is None else now
    if abs(now - sent_at) > tolerance:
        raise SignatureInvalid("webhook-timestamp is outside the 5-minute window")
    expected = [signature(secret_key(s), msg_id, sent_at, body) for s in secrets]
    matched = False
    for given in signatures.split():
        for candidate in expected:
            # No early exit: every pair is compared.
            matched |= hmac.compare_digest(given.encode(), candidate.encode())
    if not matched:
        raise SignatureInvalid("no valid signature")
    return msg_id
