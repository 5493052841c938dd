"""Request bodies capped before they are read, whatever their framing.

Django's ASGI handler reads a request's whole body (into memory, then a spooled
file) before any view runs, so a view cannot refuse a body that is too large
without having taken it in first. This middleware sits in front: a request that
declares a ``Content-Length`` over the cap of its path is answered 413 at once,
unread; one sent in chunks (no length declared) is counted as it arrives, and
the moment it passes the cap it is answered 413 and nothing more of it is read.
The application is then told the client went away, and whatever it would still
send is dropped.

Errors are JSON (``{"error": …}``), or Open311's XML for a path ending in
``.xml``, as the endpoints behind them answer; a browser posting a page's form
(asking for HTML, not calling an API) gets a short page in its language.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import translation
from django.utils.html import escape as html_escape

logger = logging.getLogger("knutpunkt.http")


class BodyLimitMiddleware:
    """Caps request bodies: ``limits`` maps paths to a cap in bytes, ``default``
    applies elsewhere. A key ending in ``*`` is a prefix (``"/admin/*"``), any
    other key one exact path (``"/rapportera/"``); an exact path wins, then the
    longest prefix."""

    def __init__(self, app, *, limits: dict[str, int], default: int):
        self.app = app
        self.default = default
        self.exact = {key: limit for key, limit in limits.items() if key[-1:] != "*"}
        self.prefixes = sorted(
            ((key[:-1], limit) for key, limit in limits.items() if key[-1:] == "*"),
            key=lambda item: -len(item[0]),
        )

    def limit_for(self, path: str) -> int:
        if path in self.exact:
            return self.exact[path]
        for prefix, limit in self.prefixes:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        limit = self.limit_for(path)
        headers = scope.get("headers", ())
        declared = _content_length(headers)
        if declared == -1:
            return await _refuse(send, path, 400, "Content-Length is not a number.")
        if declared is not None and declared > limit:
            if _browser_page(path, headers):
                return await _refuse_page(send, path, limit)
            return await _refuse(send, path, 413, _too_large(limit))

        received = 0
        refused = False

        async def counting_receive():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if _browser_page(path, headers):
                        await _refuse_page(send, path, limit)
                    else:
                        await _refuse(send, path, 413, _too_large(limit))
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if not refused:
                await send(message)

        return await self.app(scope, counting_receive, guarded_send)

    @staticmethod
    def too_large(limit: int) -> str:
        """The reason given for a body over ``limit`` bytes."""
        return _too_large(limit)


def _content_length(headers: Iterable[tuple[bytes, bytes]]) -> int | None:
    """The declared length; None when there is none, -1 when it is not a number."""
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return -1
            return length if length >= 0 else -1
    return None


def _browser_page(path: str, headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether a browser posted a page's form (it asks for HTML and is not
    calling an API), so the refusal should be a page it can show."""
    if path.startswith(("/api/", "/open311/")):
        return False
    for name, value in headers:
        if name.lower() == b"accept":
            return b"text/html" in value and b"application/json" not in value
    return False


async def _refuse_page(send, path: str, limit: int) -> None:
    """413 as a short page in the language of the path (``/en/…``, else the
    site's default), with a way back."""
    logger.warning("Request to %s refused (413): body over %s bytes", path, limit)
    language = translation.get_language_from_path(path) or settings.LANGUAGE_CODE
    with translation.override(language):
        title = translation.gettext("What you sent is too large")
        text = translation.gettext(
            "It is larger than %(size)s. Go back and send fewer or smaller photos."
        ) % {"size": _size(limit)}
        back = translation.gettext("Back")
    body = (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html_escape(title)}</title></head><body><main>"
        f"<h1>{html_escape(title)}</h1><p>{html_escape(text)}</p>"
        f'<p><a href="{html_escape(path)}">{html_escape(back)}</a></p>'
        "</main></body></html>"
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"content-security-policy", b"default-src 'none'"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _size(limit: int) -> str:
    return f"{limit // 1024} KB" if limit < 1024 * 1024 else f"{limit // 2**20} MB"


def _too_large(limit: int) -> str:
    return f"The request body is larger than {_size(limit)}."


async def _refuse(send, path: str, status: int, reason: str) -> None:
    logger.warning("Request to %s refused (%s): %s", path, status, reason)
    if path.endswith(".xml"):
        body = (
            '<?xml version="1.0" encoding="utf-8"?><errors><error>'
            f"<code>{status}</code><description>{escape(reason)}</description>"
            "</error></errors>"
        ).encode()
        content_type = b"text/xml; charset=utf-8"
    else:
        body = json.dumps({"error": reason}).encode()
        content_type = b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
