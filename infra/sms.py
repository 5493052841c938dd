"""Text messages through the operator's SMS gateway, if one is configured
(``KNUTPUNKT_SMS_GATEWAY``; no provider is built in).

The protocol is ours and small: ``POST <url>`` with the JSON body
``{"to": "+46701234567", "text": "…"}`` and ``Authorization: Bearer <token>``
(the token from the environment variable the settings name); any 2xx answer
means the gateway took the message. The gateway's host is the operator's, as
the SMTP server is, so it is reached directly with a short timeout.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

from django.conf import settings


class SMSUnavailable(Exception):
    """No gateway is configured, or it did not take the message."""


def sms_configured() -> bool:
    return bool((settings.KNUTPUNKT_SMS_GATEWAY or {}).get("url"))


def sms_send(*, to: str, text: str) -> None:
    """Hand one message to the gateway; ``SMSUnavailable`` if it is not taken."""
    gateway = settings.KNUTPUNKT_SMS_GATEWAY or {}
    if not gateway.get("url"):
        raise SMSUnavailable("no SMS gateway is configured")
    token = os.environ.get(gateway.get("token_env", ""), "")
    request = urllib.request.Request(  # noqa: S310 (the operator's https URL)
        gateway["url"],
        data=json.dumps({"to": to, "text": text}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=gateway.get("timeout", 5.0)
        ) as answer:
            if not 200 <= answer.status < 300:
                raise SMSUnavailable(f"the gateway answered {answer.status}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise SMSUnavailable(str(error)) from error
