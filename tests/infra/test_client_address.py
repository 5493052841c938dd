"""The client's address for rate limits and logs: the peer, or behind a configured
number of proxies the entry that many from the right of X-Forwarded-For; never
what the client wrote itself."""

import io
import random
import threading
import time
from http.client import HTTPConnection

import pytest
import uvicorn
from django.core.handlers.asgi import ASGIRequest
from django.test import RequestFactory

from devkit.instance import free_port
from infra.ratelimit import client_address
from infra.server import uvicorn_config

PEER = "192.0.2.10"  # the connection's other end: the proxy nearest to us


def address(settings, proxies: int, forwarded: str | None) -> str:
    settings.KNUTPUNKT_TRUSTED_PROXIES = proxies
    headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=PEER, **headers))


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        # No proxy configured: whatever the client writes is ignored.
        (0, "203.0.113.1", PEER),
        (0, None, PEER),
        # One proxy: it appended the address it was reached from, last.
        (1, "203.0.113.1", "203.0.113.1"),
        (1, "6.6.6.6, 203.0.113.1", "203.0.113.1"),
        (1, "6.6.6.6,7.7.7.7,  203.0.113.1 ", "203.0.113.1"),
        # Two proxies: the second from the right; left of it is the client's own.
        (2, "6.6.6.6, 203.0.113.1, 198.51.100.2", "203.0.113.1"),
        (2, "203.0.113.1, 198.51.100.2", "203.0.113.1"),
        (1, "2001:db8::1", "2001:db8::1"),
        # Fewer entries than proxies: it did not come through them all.
        (2, "203.0.113.1", PEER),
        (1, None, PEER),
        (1, "", PEER),
        (1, " , ", PEER),
        # Not an address where the proxy's entry should be.
        (1, "6.6.6.6, unknown", PEER),
        (1, "6.6.6.6, 203.0.113.1:8080", "203.0.113.1"),
        (1, "[2001:db8::1]:8080", "2001:db8::1"),
        (1, "[2001:db8::1", PEER),
        (1, "203.0.113.1:8080:1", PEER),
        (1, "x" * 5000, PEER),
        # A negative count is no proxy.
        (-1, "203.0.113.1", PEER),
    ],
)
def test_the_client_is_counted_from_the_right(settings, proxies, forwarded, expected):
    assert address(settings, proxies, forwarded) == expected


def test_repeated_headers_count_as_one_list(settings):
    """Two X-Forwarded-For headers (a proxy that adds its own instead of
    appending) are read as one list, in the order they came."""
    settings.KNUTPUNKT_TRUSTED_PROXIES = 1
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [
            (b"host", b"localhost"),
            (b"x-forwarded-for", b"6.6.6.6"),
            (b"x-forwarded-for", b"203.0.113.1"),
        ],
        "client": (PEER, 50000),
    }
    request = ASGIRequest(scope, io.BytesIO())
    assert client_address(request) == "203.0.113.1"


@pytest.mark.django_db
def test_a_client_cannot_escape_the_limit_by_writing_addresses(client, settings):
    """Behind one proxy, a client that puts a new address first in every request
    is still one client."""
    settings.KNUTPUNKT_TRUSTED_PROXIES = 1
    settings.KNUTPUNKT_RATE_LIMITS = {"locate": (3, 86_400)}
    me, other = (
        f"2001:db8::{random.getrandbits(16):x}:{random.getrandbits(16):x}"
        for _ in range(2)
    )
    params = {"lat": "55.6059", "lon": "13.0007"}

    def get(spoofed: str, real: str):
        return client.get(
            "/api/v1/locate",
            params,
            REMOTE_ADDR=PEER,
            HTTP_X_FORWARDED_FOR=f"{spoofed}, {real}",
        ).status_code

    codes = [get(f"203.0.113.{n}", me) for n in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert get("203.0.113.99", other) == 200


@pytest.mark.timeout(30)
def test_the_server_passes_the_peer_whatever_the_headers_say():
    """Uvicorn would take X-Forwarded-For from any peer on 127.0.0.1; the
    server's configuration leaves that to client_address."""
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["client"][0])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    port = free_port()
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        connection = HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request(
            "GET",
            "/",
            headers={"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.8"},
        )
        assert connection.getresponse().status == 204
        connection.close()
    finally:
        server.should_exit = True
        thread.join(10)
    assert seen == ["127.0.0.1"]
