"""Bounded HTTP for connectors: timeouts, a size cap on answers, readable failures.

The standard library's http.client is enough here and leaves every limit in our
hands: a case system's answer is read at most ``MAX_RESPONSE_BYTES`` far, and a
slow one is cut off by the connection's timeout on every socket operation and by
an overall deadline.

The host name is resolved once: every address it resolves to is checked (no
private address unless ``KNUTPUNKT_CONNECTIONS_ALLOW_PRIVATE``), and the
connection goes to a checked address, never through a second lookup that could
answer differently (DNS rebinding). The request still names the host (``Host``
header) and TLS still sends it (SNI) and checks the certificate against it.
"""

from __future__ import annotations

import email.utils
import http.client
import ipaddress
import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from urllib.parse import urlsplit

from django.conf import settings

from .base import ConfigurationError, DeliveryError

MAX_RESPONSE_BYTES = 256 * 1024
USER_AGENT = "Knutpunkt/1.0 (+case-system delivery)"


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self, what: str):
        """The body as JSON, or a DeliveryError saying what came instead."""
        if "json" not in self.content_type and not self.body.lstrip().startswith(
            (b"[", b"{")
        ):
            raise DeliveryError(
                f"{what}: expected JSON, got {describe_body(self)}",
                http_status=self.status,
            )
        try:
            return json.loads(self.body)
        except ValueError:
            raise DeliveryError(
                f"{what}: malformed JSON ({describe_body(self)})",
                http_status=self.status,
            ) from None


def describe_body(response: Response) -> str:
    """A short, readable account of an answer's body for staff."""
    body = response.body
    text = body[:4096].decode("utf-8", "replace")
    kind = response.content_type or "no content type"
    if "html" in kind or text.lstrip().lower().startswith(("<!doctype", "<html")):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        shown = unescape(title.group(1)).strip() if title else ""
        return f"an HTML page{f' titled “{shown[:120]}”' if shown else ''}"
    if not body:
        return "an empty body"
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    # Open311's error format: [{"code": 400, "description": "…"}]
    if isinstance(data, list) and data and isinstance(data[0], dict):
        description = data[0].get("description")
        if isinstance(description, str):
            return f"“{description[:200]}”"
    if isinstance(data, dict):
        for key in ("error", "message", "description", "detail"):
            if isinstance(data.get(key), str):
                return f"“{data[key][:200]}”"
    printable = " ".join(text.split())[:200]
    return f"{kind} “{printable}”"


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def raise_for_status(response: Response, what: str) -> None:
    """Turn an answer other than 2xx into the DeliveryError the outbox acts on."""
    status = response.status
    if 200 <= status < 300:
        return
    reason = f"{what}: HTTP {status}, {describe_body(response)}"
    retry_after = _retry_after(response.headers.get("retry-after"))
    if status == 410:
        raise DeliveryError(reason, http_status=status, gone=True)
    if status == 429:
        raise DeliveryError(
            reason, http_status=status, retry_after=retry_after, connection_fault=False
        )
    if status in (401, 403, 404, 405, 408) or status >= 500:
        # Credentials, a wrong URL, or the system itself: the connection's fault.
        raise DeliveryError(reason, http_status=status, retry_after=retry_after)
    # Any other 4xx: the system refused this one request.
    raise DeliveryError(reason, http_status=status, connection_fault=False)


#: Resolves a host name and port to the addresses to connect to, in order.
Resolver = Callable[[str, int], list[str]]


def system_resolve(host: str, port: int) -> list[str]:
    """The system resolver's addresses for ``host`` (a literal address is itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _checked_addresses(host: str, port: int, resolve: Resolver) -> list[str]:
    """Resolve ``host`` once and check every address it gave."""
    try:
        addresses = resolve(host, port)
    except OSError as exc:
        raise DeliveryError(f"Cannot resolve {host}: {exc}") from None
    if not addresses:
        raise DeliveryError(f"Cannot resolve {host}: no address")
    if not settings.KNUTPUNKT_CONNECTIONS_ALLOW_PRIVATE:
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if not address.is_global:
                raise ConfigurationError(
                    f"{host} resolves to a private address ({address}); "
                    "case systems must be on the internet."
                )
    return addresses


def _pinned(factory, host: str, port: int | None, addresses: list[str], timeout):
    """An http.client connection for ``host`` that connects only to
    ``addresses`` (tried in order), whatever a later lookup would say."""
    conn = factory(host, port, timeout=timeout)

    def connect_checked(address, timeout=None, source=None):
        _name, port = address
        error = OSError(f"no address to connect to for {host}")
        for candidate in addresses:
            try:
                return socket.create_connection((candidate, port), timeout, source)
            except OSError as exc:
                error = exc
        raise error

    # http.client opens its socket through this attribute (and then wraps it
    # for TLS with server_hostname=host, so SNI and the certificate check are
    # for the host name).
    conn._create_connection = connect_checked
    return conn


def request(
    method: str,
    url: str,
    *,
    timeout: float,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    resolve: Resolver = system_resolve,
) -> Response:
    """One HTTP request with every limit applied; failures become DeliveryError.

    ``resolve`` turns the URL's host and port into addresses (the system
    resolver by default; tests give their own). It is called once, and the
    connection goes only to the addresses it gave, after they were checked.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"“{url}” is not an http(s) URL.")
    if parts.scheme == "http" and settings.KNUTPUNKT_CONNECTIONS_REQUIRE_HTTPS:
        raise ConfigurationError(f"“{url}” must use https.")
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    addresses = _checked_addresses(parts.hostname, port, resolve)
    factory = http.client.HTTPSConnection if https else http.client.HTTPConnection
    conn = _pinned(factory, parts.hostname, parts.port, addresses, timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    all_headers = {"User-Agent": USER_AGENT, "Connection": "close", **(headers or {})}
    deadline = time.monotonic() + timeout * 2
    try:
        conn.request(method, path, body=body, headers=all_headers)
        raw = conn.getresponse()
        chunks, size = [], 0
        while True:
            chunk = raw.read1(65536) if hasattr(raw, "read1") else raw.read(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise DeliveryError(
                    f"{method} {parts.path}: the answer is larger than "
                    f"{MAX_RESPONSE_BYTES // 1024} KB; not read further",
                    http_status=raw.status,
                )
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise TimeoutError
        return Response(
            status=raw.status,
            headers={k.lower(): v for k, v in raw.getheaders()},
            body=b"".join(chunks),
        )
    except TimeoutError:
        raise DeliveryError(
            f"{method} {parts.netloc}{parts.path}: no answer within {timeout:g} s"
        ) from None
    except ConnectionRefusedError:
        raise DeliveryError(
            f"{method} {parts.netloc}{parts.path}: connection refused"
        ) from None
    except (http.client.HTTPException, OSError) as exc:
        raise DeliveryError(
            f"{method} {parts.netloc}{parts.path}: {exc.__class__.__name__}: {exc}"
        ) from None
    finally:
        conn.close()
