"""Standard Webhooks (https://www.standardwebhooks.com/), as a sender and a
receiver outside Knutpunkt see them: written from the specification, not from
the product's ``casehub.signing``, so that a test signing with one and verifying
with the other catches a mistake in either."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid


def make_secret() -> str:
    """A random secret: ``whsec_`` and 32 bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, msg_id: str, timestamp: int | str, body: bytes) -> str:
    """The ``v1,<base64 HMAC-SHA256>`` of ``{id}.{timestamp}.{body}``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return (
        "v1,"
        + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    )


def signed_headers(
    secret: str,
    body: bytes,
    *,
    msg_id: str | None = None,
    timestamp: int | None = None,
    signature_header: str | None = None,
) -> dict[str, str]:
    """The three headers of a signed message (a fresh id and the current time
    unless given; ``signature_header`` replaces the signature, to forge one)."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header
        or signature(secret, msg_id, timestamp, body),
    }


def signed_json(secret: str, payload, **options) -> tuple[bytes, dict[str, str]]:
    """A JSON body and its headers (Content-Type included), signed."""
    body = json.dumps(payload).encode()
    return body, {
        "Content-Type": "application/json",
        **signed_headers(secret, body, **options),
    }


def verify(
    secret: str, headers: dict[str, str], body: bytes, *, tolerance: int = 300
) -> str:
    """Why the message is refused ("" when it is good): missing headers, a bad
    timestamp, one outside ``tolerance`` seconds, or no valid ``v1`` signature."""
    msg_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp")
    given = headers.get("webhook-signature")
    if not (msg_id and stamp and given):
        return "missing headers"
    try:
        timestamp = int(stamp)
    except ValueError:
        return "invalid timestamp"
    now = time.time()
    if timestamp < now - tolerance:
        return "stale timestamp"
    if timestamp > now + tolerance:
        return "future timestamp"
    expected = signature(secret, msg_id, stamp, body).encode()
    ok = False
    for entry in given.split(" "):
        ok |= entry.startswith("v1,") and hmac.compare_digest(entry.encode(), expected)
    return "" if ok else "invalid signature"
