"""Request bodies are capped before they are read, whatever their framing
(infra.asgi.BodyLimitMiddleware): at the ASGI level, and through a real server
taking a chunked upload."""

import asyncio
import json
import socket
import threading
import time

import pytest
import uvicorn
from asgiref.sync import async_to_sync
from django.conf import settings
from django.urls import clear_url_caches, reverse
from django.utils import translation

from config.asgi import application
from devkit.instance import free_port
from infra.asgi import BodyLimitMiddleware

pytestmark = pytest.mark.timeout(60)

CAP = 64 * 1024
CHUNK = 8 * 1024


class Reader:
    """An application that reads the whole body first, as Django's handler
    does, then answers 200 with the number of bytes it got."""

    def __init__(self):
        self.read = 0
        self.disconnected = False

    async def __call__(self, scope, receive, send):
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                return
            self.read += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(self.read).encode()})


def run(
    app,
    *,
    path="/api/v1/connections/1/signals",
    headers=(),
    chunks=None,
    chunk=CHUNK,
):
    """Drive one request through ``app``: what it sent, and how many chunks the
    client was asked for (``chunks``: a finite list, or None for endless chunks
    of ``chunk`` bytes)."""
    sent, asked = [], 0
    endless = b"x" * chunk

    async def receive():
        nonlocal asked
        asked += 1
        if chunks is None:
            return {"type": "http.request", "body": endless, "more_body": True}
        if asked > len(chunks):
            # The body was sent whole: the client then waits for the answer.
            await asyncio.Future()
        body = chunks[asked - 1]
        return {"type": "http.request", "body": body, "more_body": asked < len(chunks)}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), *headers],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }
    async_to_sync(app)(scope, receive, send)
    return sent, asked


def limited(inner):
    return BodyLimitMiddleware(
        inner,
        limits={"/api/v1/connections/*": CAP, "/rapportera/": 20 * CHUNK},
        default=10 * CAP,
    )


def test_an_endless_chunked_body_is_refused_when_it_passes_the_cap_and_no_further():
    inner = Reader()
    sent, asked = run(limited(inner))
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"]) == {
        "error": "The request body is larger than 64 KB."
    }
    # Read up to the first chunk past the cap, not a byte more.
    assert asked == CAP // CHUNK + 1
    assert inner.disconnected and len(sent) == 2


def test_a_declared_length_over_the_cap_is_refused_unread():
    inner = Reader()
    sent, asked = run(
        limited(inner), headers=[(b"content-length", str(CAP + 1).encode())]
    )
    assert (sent[0]["status"], asked, inner.read) == (413, 0, 0)


def test_an_unreadable_length_is_a_bad_request():
    sent, asked = run(limited(Reader()), headers=[(b"content-length", b"lots")])
    assert (sent[0]["status"], asked) == (400, 0)


def test_a_body_within_the_cap_passes_whole_and_other_paths_have_their_own_cap():
    inner = Reader()
    sent, _ = run(limited(inner), chunks=[b"a" * CHUNK] * (CAP // CHUNK))
    assert (sent[0]["status"], sent[1]["body"]) == (200, str(CAP).encode())
    inner = Reader()
    sent, _ = run(limited(inner), path="/rapportera/", chunks=[b"a" * CHUNK] * 20)
    assert (sent[0]["status"], inner.read) == (200, 20 * CHUNK)


def test_an_exact_path_is_not_a_prefix_and_a_star_key_is():
    middleware = limited(Reader())
    assert middleware.limit_for("/rapportera/") == 20 * CHUNK
    assert middleware.limit_for("/rapportera/tack/") == 10 * CAP
    assert middleware.limit_for("/api/v1/connections/7/signals") == CAP
    assert middleware.limit_for("/api/v1/connections") == 10 * CAP
    inner = Reader()
    sent, asked = run(
        limited(inner),
        path="/rapportera/tack/",
        headers=[(b"content-length", str(20 * CHUNK).encode())],
        chunks=[b"a" * CHUNK] * 20,
    )
    assert (sent[0]["status"], inner.read) == (200, 20 * CHUNK)


def test_open311_xml_paths_are_answered_in_xml():
    sent, _ = run(
        limited(Reader()),
        path="/open311/v2/servicerequestupdates.xml",
        headers=[(b"content-length", str(100 * CAP).encode())],
    )
    assert sent[0]["status"] == 413
    assert b"<errors><error><code>413</code>" in sent[1]["body"]


@pytest.fixture
def server():
    """The project's ASGI application under uvicorn, in this process."""
    port = free_port()
    config = uvicorn.Config(
        application, host="127.0.0.1", port=port, lifespan="off", log_config=None
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port
    running.should_exit = True
    thread.join(10)


def test_a_real_server_refuses_a_chunked_signal_over_the_cap_before_its_end(server):
    """A case system streams a signal of 1 MB in chunks; the answer 413 comes
    after the cap, while most of the body was never taken."""
    cap = settings.KNUTPUNKT_SIGNAL_MAX_BYTES
    with socket.create_connection(("127.0.0.1", server), timeout=10) as conn:
        conn.sendall(
            b"POST /api/v1/connections/1/signals HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sent = 0
        answer = b""
        conn.settimeout(0.05)
        while sent < 1024 * 1024 and b"\r\n\r\n" not in answer:
            chunk = b"x" * CHUNK
            try:
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                break  # the server closed: it read no more
            sent += len(chunk)
            try:
                answer += conn.recv(65536)
            except TimeoutError:
                pass
        conn.settimeout(10)
        while b"\r\n\r\n" not in answer:
            more = conn.recv(65536)
            if not more:
                break
            answer += more
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert cap < sent < 1024 * 1024


# --- The project's own application and caps -----------------------------------

HUGE = 300 * 1024 * 1024

ENDPOINTS = {
    # The report form takes what its photos need, and only it.
    "report form": ("/rapportera/", "KNUTPUNKT_REPORT_FORM_MAX_BYTES"),
    "report form (en)": ("/en/rapportera/", "KNUTPUNKT_REPORT_FORM_MAX_BYTES"),
    # Pages and forms without uploads: a POST without a CSRF token is refused
    # here before Django reads it for the 403.
    "thanks page": ("/rapportera/tack/", "KNUTPUNKT_BODY_LIMIT_DEFAULT"),
    "a CMS page": ("/om-tjansten/", "KNUTPUNKT_BODY_LIMIT_DEFAULT"),
    "follow": ("/rapporter/1/folj/", "KNUTPUNKT_BODY_LIMIT_DEFAULT"),
    "Mina sidor": ("/mina-sidor/", "KNUTPUNKT_BODY_LIMIT_DEFAULT"),
    "an API": ("/api/v1/geocode", "KNUTPUNKT_BODY_LIMIT_DEFAULT"),
    "admin image upload": ("/admin/images/multiple/add/", "KNUTPUNKT_ADMIN_MAX_BYTES"),
    "intake webhook": (
        "/api/v1/connections/1/signals",
        "KNUTPUNKT_SIGNAL_MAX_BYTES",
    ),
    "intake Open311": (
        "/open311/v2/servicerequestupdates.xml",
        "KNUTPUNKT_SIGNAL_MAX_BYTES",
    ),
}


def test_the_caps_are_per_endpoint_and_small_outside_the_forms_with_uploads():
    assert settings.KNUTPUNKT_BODY_LIMIT_DEFAULT == 64 * 1024
    assert settings.KNUTPUNKT_REPORT_FORM_MAX_BYTES == (
        settings.KNUTPUNKT_MAX_PHOTOS * settings.KNUTPUNKT_PHOTO_MAX_BYTES + 256 * 1024
    )
    assert settings.KNUTPUNKT_SIGNAL_MAX_BYTES == 64 * 1024


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_a_declared_300_mb_body_is_refused_unread_by_the_project_app(endpoint):
    path, cap_setting = ENDPOINTS[endpoint]
    sent, asked = run(
        application, path=path, headers=[(b"content-length", str(HUGE).encode())]
    )
    cap = getattr(settings, cap_setting)
    assert sent[0]["status"] == 413
    assert asked == 0
    body = sent[1]["body"]
    if path.endswith(".xml"):
        assert b"<code>413</code>" in body
    else:
        assert json.loads(body) == {"error": BodyLimitMiddleware.too_large(cap)}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_a_chunked_body_over_the_cap_is_read_to_the_cap_and_no_further(endpoint):
    path, cap_setting = ENDPOINTS[endpoint]
    cap = getattr(settings, cap_setting)
    chunk = 256 * 1024 if cap > 1024 * 1024 else CHUNK
    sent, asked = run(application, path=path, chunk=chunk)
    assert sent[0]["status"] == 413
    assert len(sent) == 2
    # The chunk that passed the cap is the last one taken.
    assert (asked - 1) * chunk <= cap < asked * chunk


# Not inside a test transaction: Django's refusal page reads the site (its name
# and menu), and a request closes and reopens the connection as in production,
# which a pooled PostgreSQL connection cannot do inside an atomic block.
@pytest.mark.django_db(transaction=True)
def test_a_small_post_without_a_csrf_token_still_reaches_django_and_gets_403():
    sent, asked = run(
        application,
        path="/rapportera/tack/",
        headers=[
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", b"5"),
        ],
        chunks=[b"a=b&c"],
    )
    assert sent[0]["status"] == 403
    assert asked >= 1


def _raw_request(port: int, head: bytes) -> bytes:
    """Send the request head only, and read the answer the server gives."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head)
        answer = b""
        while b"\r\n\r\n" not in answer:
            more = conn.recv(65536)
            if not more:
                break
            answer += more
        return answer


@pytest.mark.parametrize(
    "path", ["/rapportera/", "/rapportera/tack/", "/admin/images/multiple/add/"]
)
def test_a_real_server_answers_413_to_a_declared_300_mb_body_before_any_is_sent(
    server, path
):
    """Only the head is sent: the 413 comes without waiting for one byte of
    the 300 MB (a server reading first would wait until the timeout)."""
    answer = _raw_request(
        server,
        b"POST %s HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: multipart/form-data; boundary=x\r\n"
        b"Content-Length: %d\r\n\r\n" % (path.encode(), HUGE),
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


@pytest.mark.parametrize(
    ("path", "language", "text"),
    [
        ("/rapportera/", "sv", "Det du skickade är för stort"),
        ("/en/rapportera/", "en", "What you sent is too large"),
    ],
)
def test_a_browser_posting_the_form_gets_a_page_in_its_language(
    settings, path, language, text
):
    settings.LANGUAGE_CODE = "sv"
    accept = (b"accept", b"text/html,application/xhtml+xml,*/*;q=0.8")
    for request in (
        {"headers": [accept, (b"content-length", str(HUGE).encode())]},
        {"headers": [accept], "chunk": 256 * 1024},
    ):
        sent, asked = run(application, path=path, **request)
        start, body = sent[0], sent[1]["body"].decode()
        assert start["status"] == 413
        assert (b"content-type", b"text/html; charset=utf-8") in start["headers"]
        assert f'<html lang="{language}">' in body and text in body
        assert f'<a href="{path}">' in body
    assert asked * 256 * 1024 > settings.KNUTPUNKT_REPORT_FORM_MAX_BYTES


def test_an_api_asking_for_html_still_gets_json():
    sent, _ = run(
        application,
        path="/api/v1/geocode",
        headers=[(b"accept", b"text/html"), (b"content-length", str(HUGE).encode())],
    )
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"].startswith("The request body")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_report_forms_cap_is_on_its_address_in_every_language(
    settings, request, language
):
    """The caps name paths; the report form's must be where its URL is."""
    settings.LANGUAGE_CODE = "sv"
    # URL resolvers cache the language prefix by the default language.
    clear_url_caches()
    request.addfinalizer(clear_url_caches)
    middleware = BodyLimitMiddleware(
        None,
        limits=settings.KNUTPUNKT_BODY_LIMITS,
        default=settings.KNUTPUNKT_BODY_LIMIT_DEFAULT,
    )
    with translation.override(language):
        form = reverse("report-new")
        thanks = reverse("report-thanks")
    assert middleware.limit_for(form) == settings.KNUTPUNKT_REPORT_FORM_MAX_BYTES
    assert middleware.limit_for(thanks) == settings.KNUTPUNKT_BODY_LIMIT_DEFAULT
