"""Small real servers on loopback standing in for systems we cannot run here."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import threading
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import jwt
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives.asymmetric import rsa

from . import webhooks
from .webhooks import make_secret  # noqa: F401 (offered here too)


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "message": message_from_bytes(envelope.content, policy=policy.default),
            }
        )
        return "250 Message accepted for delivery"


class SMTPServer:
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""

    def __init__(self):
        self._inbox = _Inbox()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._controller = Controller(self._inbox, hostname="127.0.0.1", port=port)

    def __enter__(self):
        self._controller.start()
        return self

    def __exit__(self, *exc):
        self._controller.stop()

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def messages(self) -> list[dict]:
        return self._inbox.messages

    def bodies_to(self, address: str) -> list[str]:
        return [
            m["message"].get_body(("plain",)).get_content()
            for m in self.messages
            if address in m["to"]
        ]


class _LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # A handler parked on ``hold`` or an idle keep-alive connection must not keep
    # server_close() waiting.
    block_on_close = False


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body, by Content-Length or chunked transfer coding."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        chunks = []
        while True:
            line = handler.rfile.readline()
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length > 0 else b""


def _send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):
        # The client went away (a test killed it mid-delivery): nothing to answer.
        handler.close_connection = True


def _send_json(
    handler: BaseHTTPRequestHandler,
    status: int,
    data,
    headers: dict[str, str] | None = None,
) -> None:
    _send(handler, status, json.dumps(data).encode(), headers=headers)


def _lowercased_headers(handler: BaseHTTPRequestHandler) -> dict[str, str]:
    return {name.lower(): value for name, value in handler.headers.items()}


class _LoopbackService:
    """Runs a ThreadingHTTPServer on 127.0.0.1 (a free port) in a daemon thread."""

    def _serve(self) -> None:
        """Serve HTTP/1.1 with this object's ``_get`` and ``_post`` (where defined;
        other methods answer 501)."""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 30

            def do_GET(self):  # noqa: N802 (http.server API)
                outer._dispatch("_get", self)

            def do_POST(self):  # noqa: N802 (http.server API)
                outer._dispatch("_post", self)

            def log_message(self, *args):
                pass

        self._server = _LoopbackHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            # shutdown() waits up to one poll interval; keep tests quick.
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )

    def _answered_as_scripted(self, h: BaseHTTPRequestHandler) -> bool:
        """Wait ``delay`` seconds, then answer ``raw_response`` where one is set;
        True when that answered the request."""
        if self.delay:
            time.sleep(self.delay)
        raw = self.raw_response
        if raw is None:
            return False
        status, content_type, payload = raw
        _send(h, status, payload, content_type)
        return True

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def _dispatch(self, name: str, handler: BaseHTTPRequestHandler) -> None:
        method = getattr(self, name, None)
        if method is None:
            handler.send_error(501)
        else:
            method(handler)


class NominatimServer(_LoopbackService):
    """Answers Nominatim's /search and /reverse like the real service, from a
    fixed gazetteer.

    ``delay`` makes it slow; ``status`` makes it fail.
    """

    def __init__(self, places: list[dict]):
        self.places = places
        self.delay = 0.0
        self.status = 200
        self.queries: list[dict] = []
        self._serve()

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _get(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.queries.append({"path": url.path, **query})
        time.sleep(self.delay)
        if self.status != 200:
            _send(h, self.status, b"")
            return
        if url.path.startswith("/reverse"):
            self._reverse(h, query)
            return
        q = query.get("q", "").lower()
        found = [
            {
                "place_id": i,
                "lat": str(p["lat"]),
                "lon": str(p["lon"]),
                "display_name": p["name"],
                "boundingbox": [
                    str(p["lat"]),
                    str(p["lat"]),
                    str(p["lon"]),
                    str(p["lon"]),
                ],
            }
            for i, p in enumerate(self.places)
            if q in p["name"].lower()
        ][: int(query.get("limit", 10))]
        _send_json(h, 200, found)

    def _reverse(self, h: BaseHTTPRequestHandler, query: dict) -> None:
        """/reverse: the gazetteer's place nearest the point (within about a
        kilometre), as Nominatim answers; its "Unable to geocode" error else."""
        lat, lon = float(query["lat"]), float(query["lon"])

        def distance(p):
            return (p["lat"] - lat) ** 2 + ((p["lon"] - lon) * 0.56) ** 2

        near = [p for p in self.places if distance(p) < 0.01**2]
        if not near:
            _send_json(h, 200, {"error": "Unable to geocode"})
            return
        p = min(near, key=distance)
        _send_json(
            h,
            200,
            {
                "place_id": self.places.index(p),
                "lat": str(p["lat"]),
                "lon": str(p["lon"]),
                "display_name": p["name"],
                "address": {},
                "boundingbox": [
                    str(p["lat"]),
                    str(p["lat"]),
                    str(p["lon"]),
                    str(p["lon"]),
                ],
            },
        )


def _open311_errors(status: int, description: str) -> list[dict]:
    return [{"code": status, "description": description}]


class Open311Server(_LoopbackService):
    """A GeoReport v2 case system: services, service definitions, requests, tokens,
    and mySociety's ``GET servicerequestupdates.json``.

    Failure modes, settable at any time, apply to ``POST requests.json`` in this
    order before validation: ``delay`` (seconds to sleep), ``raw_response``
    ((status, content_type, body) sent verbatim), ``fail_first`` (the next N
    POSTs answer 500; counts down), ``status`` (answer this status with an error
    list, plus ``Retry-After: retry_after`` when that is set). ``hold`` (an
    Event) parks a POST after its case is created and recorded: ``holding`` is
    set, then the answer waits for ``hold`` (at most 60 s).

    ``GET servicerequestupdates.json`` answers the entries of ``updates`` (a
    list of dicts with update_id, service_request_id, status, updated_datetime,
    description, media_url, external_status_code) whose updated_datetime lies
    from ``start_date`` to ``end_date``, both inclusive and each optional; an
    entry whose updated_datetime is no ISO 8601 date and time is always
    answered. Each query's parameters are appended to ``update_queries`` first.
    ``delay``, ``raw_response`` and ``status`` (with ``retry_after``) apply to
    it as well, in that order, before ``api_key`` and ``jurisdiction_id`` are
    checked as for a POST.

    ``POST servicerequestupdates.json`` (or ``.xml``), mySociety's extension as
    FixMyStreet sends it: each POST is appended to ``update_posts`` first, then
    ``raw_response``, ``fail_updates`` (the next N answer 503 with
    ``Retry-After: retry_after`` when set; counts down) and ``status`` apply.
    A valid one (credentials; a known service_request_id; update_id, status
    of the extension's, a W3C updated_datetime, description, email, first_name
    and last_name present) is taken once per update_id into
    ``updates_received`` and answered with its update id, in the format asked.
    """

    # The statuses an update may carry: GeoReport's and mySociety's extended ones.
    UPDATE_STATUSES = frozenset(
        {
            "OPEN",
            "CLOSED",
            "FIXED",
            "IN_PROGRESS",
            "ACTION_SCHEDULED",
            "INVESTIGATING",
            "DUPLICATE",
            "NOT_COUNCILS_RESPONSIBILITY",
            "NO_FURTHER_ACTION",
            "INTERNAL_REFERRAL",
        }
    )
    UPDATE_REQUIRED = (
        "service_request_id",
        "update_id",
        "status",
        "updated_datetime",
        "description",
        "email",
        "first_name",
        "last_name",
    )

    PREFIX = "/open311/v2/"
    DEFAULT_SERVICE = {
        "service_code": "001",
        "service_name": "Gatubelysning",
        "description": "",
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": "Gata",
    }

    def __init__(
        self,
        services: list[dict] | None = None,
        definitions: dict[str, dict] | None = None,
        api_key: str | None = None,
        jurisdiction_id: str | None = None,
    ):
        self.services = (
            services if services is not None else [dict(self.DEFAULT_SERVICE)]
        )
        self.definitions = definitions if definitions is not None else {}
        self.api_key = api_key
        self.jurisdiction_id = jurisdiction_id
        self.token_mode = False
        self.token_ready = True
        self.status: int | None = None
        self.retry_after: str | None = None
        self.delay = 0.0
        self.raw_response: tuple[int, str, bytes] | None = None
        self.hold: threading.Event | None = None
        self.holding = threading.Event()
        self.fail_first = 0
        self.requests: list[dict] = []
        self.cases: list[dict] = []
        self.updates: list[dict] = []
        self.update_queries: list[dict] = []
        self.update_posts: list[dict] = []
        self.updates_received: list[dict] = []
        self.fail_updates = 0
        self._updates_by_id: dict[str, str] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._next_id = 1001
        self._by_key: dict[str, dict] = {}
        self._by_token: dict[str, dict] = {}
        self._by_id: dict[str, dict] = {}
        self._serve()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.PREFIX}"

    def wait_for_requests(self, n: int, timeout: float = 10) -> bool:
        """Wait until at least ``n`` POSTs to requests.json have arrived."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.requests) >= n, timeout)

    # GET --------------------------------------------------------------------

    def _get(self, h: BaseHTTPRequestHandler) -> None:
        path = unquote(urlsplit(h.path).path)
        rel = path[len(self.PREFIX) :] if path.startswith(self.PREFIX) else None
        if rel == "servicerequestupdates.json":
            self._get_updates(h)
            return
        if rel == "services.json":
            with self._lock:
                payload = json.dumps(self.services).encode()
            _send(h, 200, payload)
            return
        if rel and rel.endswith(".json"):
            kind, _, name = rel[: -len(".json")].partition("/")
            if kind == "services" and name:
                with self._lock:
                    definition = self.definitions.get(name)
                if definition is None:
                    _send_json(
                        h, 404, _open311_errors(404, f"service_code {name} not found")
                    )
                else:
                    _send_json(h, 200, definition)
                return
            if kind == "tokens" and name:
                with self._lock:
                    case = self._by_token.get(name)
                    ready = self.token_ready
                if case is None:
                    _send_json(h, 404, _open311_errors(404, f"token {name} not found"))
                elif ready:
                    _send_json(
                        h,
                        200,
                        [
                            {
                                "service_request_id": case["service_request_id"],
                                "token": name,
                            }
                        ],
                    )
                else:
                    _send_json(h, 200, [{"token": name}])
                return
            if kind == "requests" and name:
                with self._lock:
                    case = self._by_id.get(name)
                if case is None:
                    _send_json(
                        h,
                        404,
                        _open311_errors(404, f"service_request_id {name} not found"),
                    )
                else:
                    _send_json(h, 200, [self._case_view(case)])
                return
        _send_json(h, 404, _open311_errors(404, f"no such resource: {path}"))

    def _get_updates(self, h: BaseHTTPRequestHandler) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(h.path).query).items()}
        with self._lock:
            self.update_queries.append(query)
            updates = [dict(update) for update in self.updates]
        if self._answered_as_scripted(h) or self._failed_on_purpose(h):
            return
        error = self._credentials_error(query)
        if error is not None:
            _send_json(h, error[0], _open311_errors(*error))
            return
        bounds = {}
        for name in ("start_date", "end_date"):
            if query.get(name):
                bounds[name] = self._w3c_datetime(query[name])
                if bounds[name] is None:
                    _send_json(
                        h, 400, _open311_errors(400, f"{name} is not a W3C datetime")
                    )
                    return
        start, end = bounds.get("start_date"), bounds.get("end_date")
        answer = []
        for update in updates:
            moment = self._w3c_datetime(str(update.get("updated_datetime", "")))
            if moment is not None and (
                (start is not None and moment < start)
                or (end is not None and moment > end)
            ):
                continue
            answer.append(update)
        _send_json(h, 200, answer)

    @staticmethod
    def _w3c_datetime(value: str) -> datetime | None:
        """An ISO 8601 date and time (UTC when it names no zone), or None."""
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    @staticmethod
    def _case_view(case: dict) -> dict:
        form = case["form"]
        return {
            "service_request_id": case["service_request_id"],
            "status": "open",
            "service_code": form.get("service_code"),
            "description": form.get("description", ""),
            "lat": form.get("lat"),
            "long": form.get("long"),
            "address": form.get("address_string", ""),
        }

    # POST -------------------------------------------------------------------

    def wait_for_update_posts(self, n: int, timeout: float = 10) -> bool:
        """Wait until at least ``n`` POSTs to servicerequestupdates have arrived."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.update_posts) >= n, timeout)

    def _post_update(self, h: BaseHTTPRequestHandler, body: bytes, xml: bool) -> None:
        form = {
            name: values[0]
            for name, values in parse_qs(
                body.decode("utf-8", "replace"), keep_blank_values=True
            ).items()
        }
        headers = _lowercased_headers(h)
        with self._changed:
            self.update_posts.append({"form": form, "headers": headers})
            self._changed.notify_all()
            failing = self.fail_updates > 0
            if failing:
                self.fail_updates -= 1
        if self._answered_as_scripted(h):
            return
        if failing:
            retry_after = self.retry_after
            _send_json(
                h,
                503,
                _open311_errors(503, "unavailable (fail_updates)"),
                headers={"Retry-After": retry_after} if retry_after else None,
            )
            return
        if self._failed_on_purpose(h):
            return
        error = self._credentials_error(form)
        missing = [name for name in self.UPDATE_REQUIRED if not form.get(name)]
        if error is None and missing:
            error = 400, f"{', '.join(missing)} required"
        if error is None and form["status"] not in self.UPDATE_STATUSES:
            error = 400, f"status {form['status']} is not a known status"
        if error is None and self._w3c_datetime(form["updated_datetime"]) is None:
            error = 400, "updated_datetime is not a W3C datetime"
        with self._lock:
            if error is None and form["service_request_id"] not in self._by_id:
                error = (
                    404,
                    f"service_request_id {form['service_request_id']} not found",
                )
            if error is None:
                ours = self._updates_by_id.get(form["update_id"])
                if ours is None:
                    ours = f"U{len(self.updates_received) + 1}"
                    self._updates_by_id[form["update_id"]] = ours
                    self.updates_received.append({**form, "id": ours})
        if error is not None:
            _send_json(h, error[0], _open311_errors(*error))
        elif xml:
            answer = (
                '<?xml version="1.0" encoding="utf-8"?><service_request_updates>'
                f"<request_update><update_id>{ours}</update_id></request_update>"
                "</service_request_updates>"
            ).encode()
            _send(h, 200, answer, content_type="text/xml; charset=utf-8")
        else:
            _send_json(h, 200, [{"update_id": ours}])

    def _post(self, h: BaseHTTPRequestHandler) -> None:
        body = _read_body(h)
        path = unquote(urlsplit(h.path).path)
        if path in (
            self.PREFIX + "servicerequestupdates.json",
            self.PREFIX + "servicerequestupdates.xml",
        ):
            self._post_update(h, body, xml=path.endswith(".xml"))
            return
        if path != self.PREFIX + "requests.json":
            _send_json(h, 404, _open311_errors(404, f"no such resource: {path}"))
            return
        parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        form = {
            name: values if len(values) > 1 or name.endswith("[]") else values[0]
            for name, values in parsed.items()
        }
        headers = _lowercased_headers(h)
        key = headers.get("idempotency-key")
        with self._changed:
            self.requests.append({"form": form, "headers": headers, "key": key})
            self._changed.notify_all()
            failing = self.fail_first > 0
            if failing:
                self.fail_first -= 1

        if self._answered_as_scripted(h):
            return
        if failing:
            _send_json(h, 500, _open311_errors(500, "internal error (fail_first)"))
            return
        if self._failed_on_purpose(h):
            return

        error = self._validate(form)
        if error is not None:
            _send_json(h, error[0], _open311_errors(*error))
            return

        with self._lock:
            case = self._by_key.get(key) if key is not None else None
            created = case is None
            if created:
                number = str(self._next_id)
                self._next_id += 1
                case = {
                    "service_request_id": number,
                    "form": form,
                    "key": key,
                    "token": f"tok-{number}",
                }
                self.cases.append(case)
                self._by_id[number] = case
                self._by_token[case["token"]] = case
                if key is not None:
                    self._by_key[key] = case
            token_mode = self.token_mode
        hold = self.hold
        if created and hold is not None:
            self.holding.set()
            hold.wait(60)
        if token_mode:
            answer = [{"token": case["token"]}]
        else:
            answer = [
                {
                    "service_request_id": case["service_request_id"],
                    "service_notice": "",
                    "account_id": None,
                }
            ]
        _send_json(h, 201, answer)

    def _failed_on_purpose(self, h: BaseHTTPRequestHandler) -> bool:
        """Answer ``status`` (with ``retry_after``) where one is set."""
        status = self.status
        if status is None:
            return False
        retry_after = self.retry_after
        _send_json(
            h,
            status,
            _open311_errors(status, f"failing on purpose with {status}"),
            headers={"Retry-After": retry_after} if retry_after is not None else None,
        )
        return True

    def _credentials_error(self, values: dict) -> tuple[int, str] | None:
        if self.api_key is not None and values.get("api_key") != self.api_key:
            return 403, "api_key is missing or invalid"
        if (
            self.jurisdiction_id is not None
            and values.get("jurisdiction_id") != self.jurisdiction_id
        ):
            return 400, "jurisdiction_id is missing or unknown"
        return None

    def _validate(self, form: dict) -> tuple[int, str] | None:
        error = self._credentials_error(form)
        if error is not None:
            return error
        code = form.get("service_code")
        if not code or not isinstance(code, str):
            return 400, "service_code is required"
        with self._lock:
            known = {service.get("service_code") for service in self.services}
        if code not in known:
            return 400, f"service_code {code} not found"
        located = (form.get("lat") and form.get("long")) or form.get("address_string")
        if not located and not form.get("address_id"):
            return 400, "lat and long, address_string or address_id is required"
        return None


class WebhookReceiver(_LoopbackService):
    """Takes POSTs on any path and verifies them as Standard Webhooks.

    A valid delivery (good ``v1`` signature, timestamp within ``TOLERANCE``
    seconds, JSON body) counts in ``deliveries_seen`` and, the first time its
    webhook-id is seen, is appended to ``received``; it is answered ``status``
    with ``response_json`` (by default ``{"external_id": "WH-<n>"}``, n the
    webhook-id's rank). Invalid ones answer 401 (400 for a non-JSON body) and
    their reason goes to ``rejected``. ``delay`` and ``raw_response`` apply
    before verification, ``status`` and ``retry_after`` after it.
    """

    TOLERANCE = 300

    def __init__(self, secret: str):
        self.secret = secret
        self.status = 200
        self.retry_after: str | None = None
        self.delay = 0.0
        self.raw_response: tuple[int, str, bytes] | None = None
        self.response_json = None
        self.received: list[dict] = []
        self.rejected: list[str] = []
        self.deliveries_seen = 0
        self._external_ids: dict[str, str] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._serve()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    def wait_for_deliveries(self, n: int, timeout: float = 10) -> bool:
        """Wait until at least ``n`` valid deliveries have arrived."""
        with self._changed:
            return self._changed.wait_for(lambda: self.deliveries_seen >= n, timeout)

    def _reject(self, h: BaseHTTPRequestHandler, status: int, reason: str) -> None:
        with self._changed:
            self.rejected.append(reason)
            self._changed.notify_all()
        _send_json(h, status, {"error": reason})

    def _post(self, h: BaseHTTPRequestHandler) -> None:
        body = _read_body(h)
        headers = _lowercased_headers(h)
        if self._answered_as_scripted(h):
            return
        refused = webhooks.verify(self.secret, headers, body, tolerance=self.TOLERANCE)
        if refused:
            self._reject(h, 401, refused)
            return
        msg_id = headers["webhook-id"]
        timestamp = int(headers["webhook-timestamp"])
        try:
            payload = json.loads(body)
        except ValueError:
            self._reject(h, 400, "invalid json")
            return

        with self._changed:
            self.deliveries_seen += 1
            external_id = self._external_ids.get(msg_id)
            if external_id is None:
                external_id = f"WH-{len(self._external_ids) + 1}"
                self._external_ids[msg_id] = external_id
                self.received.append(
                    {
                        "id": msg_id,
                        "timestamp": timestamp,
                        "json": payload,
                        "headers": headers,
                    }
                )
            self._changed.notify_all()
            status = self.status
            response = self.response_json
            retry_after = self.retry_after
        if response is None:
            if status < 400:
                response = {"external_id": external_id}
            else:
                response = {"error": f"failing on purpose with {status}"}
        _send_json(
            h,
            status,
            response,
            headers={"Retry-After": retry_after} if retry_after is not None else None,
        )


class OIDCProvider(_LoopbackService):
    """An OpenID Connect provider (Authorization Code flow with PKCE) on loopback:
    the discovery document, ``/authorize`` (which signs in ``user`` at once and
    redirects back with a code), ``/token`` (an RS256-signed ID token), ``/jwks``
    and ``/userinfo``.

    Tests set ``user`` (the claims of whoever "signs in" next) and may spoil the
    next ID token through ``id_token_changes`` (claims to replace, e.g. ``aud`` or
    ``exp``) or ``sign_with_other_key``. ``requests`` lists the paths asked for.
    """

    def __init__(self, *, client_id: str, client_secret: str):
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "loopback-1"
        self.user: dict = {"sub": "subject-1", "email": "someone@example.org"}
        self.id_token_changes: dict = {}
        self.sign_with_other_key = False
        self.email_in_id_token = True
        self.requests: list[str] = []
        self._codes: dict[str, dict] = {}
        self._access_tokens: dict[str, dict] = {}
        self._serve()

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _get(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        self.requests.append(url.path)
        if url.path == "/.well-known/openid-configuration":
            _send_json(
                h,
                200,
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "jwks_uri": f"{self.issuer}/jwks",
                    "userinfo_endpoint": f"{self.issuer}/userinfo",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_post"],
                },
            )
        elif url.path == "/jwks":
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(
                self.key.public_key(), as_dict=True
            )
            _send_json(h, 200, {"keys": [{**jwk, "kid": self.kid, "use": "sig"}]})
        elif url.path == "/authorize":
            self._authorize(h, {k: v[0] for k, v in parse_qs(url.query).items()})
        elif url.path == "/userinfo":
            token = h.headers.get("Authorization", "").removeprefix("Bearer ")
            claims = self._access_tokens.get(token)
            if claims is None:
                _send_json(h, 401, {"error": "invalid_token"})
            else:
                _send_json(h, 200, claims)
        else:
            _send_json(h, 404, {"error": "not_found"})

    def _authorize(self, h: BaseHTTPRequestHandler, q: dict[str, str]) -> None:
        required = ("client_id", "redirect_uri", "state", "nonce", "code_challenge")
        if (
            q.get("response_type") != "code"
            or q.get("client_id") != self.client_id
            or q.get("code_challenge_method") != "S256"
            or "openid" not in q.get("scope", "").split()
            or any(not q.get(name) for name in required)
        ):
            _send_json(h, 400, {"error": "invalid_request"})
            return
        code = os.urandom(16).hex()
        self._codes[code] = {
            "redirect_uri": q["redirect_uri"],
            "nonce": q["nonce"],
            "challenge": q["code_challenge"],
            "user": dict(self.user),
        }
        separator = "&" if "?" in q["redirect_uri"] else "?"
        location = f"{q['redirect_uri']}{separator}" + urlencode(
            {"code": code, "state": q["state"]}
        )
        _send(h, 302, b"", "text/plain", headers={"Location": location})

    def _post(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        self.requests.append(url.path)
        if url.path != "/token":
            _send_json(h, 404, {"error": "not_found"})
            return
        form = {k: v[0] for k, v in parse_qs(_read_body(h).decode()).items()}
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            _send_json(h, 401, {"error": "invalid_client"})
            return
        grant = self._codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .decode()
            .rstrip("=")
        )
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant["redirect_uri"]
            or challenge != grant["challenge"]
        ):
            _send_json(h, 400, {"error": "invalid_grant"})
            return
        now = int(time.time())
        user = grant["user"]
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            **(user if self.email_in_id_token else {"sub": user["sub"]}),
            **self.id_token_changes,
        }
        key = self.other_key if self.sign_with_other_key else self.key
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})
        access_token = os.urandom(16).hex()
        self._access_tokens[access_token] = dict(user)
        _send_json(
            h,
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            },
        )


class SMSGateway(_LoopbackService):
    """The SMS gateway protocol of ``infra.sms`` on loopback: ``POST /sms`` with
    JSON ``{"to", "text"}`` and ``Authorization: Bearer <token>``. Accepted
    messages (202) go to ``messages``; a wrong token is 401, a malformed body
    400, and ``status`` other than 202 answers every request so."""

    def __init__(self, token: str):
        self.token = token
        self.status = 202
        self.delay = 0.0
        self.raw_response: tuple[int, str, bytes] | None = None
        self.messages: list[dict] = []
        self.rejected: list[str] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._serve()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms"

    def texts_to(self, number: str) -> list[str]:
        with self._lock:
            return [m["text"] for m in self.messages if m["to"] == number]

    def wait_for_messages(self, n: int, timeout: float = 10) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.messages) >= n, timeout)

    def _post(self, h: BaseHTTPRequestHandler) -> None:
        body = _read_body(h)
        if self._answered_as_scripted(h):
            return
        if urlsplit(h.path).path != "/sms":
            _send_json(h, 404, {"error": "not found"})
            return
        if h.headers.get("Authorization", "") != f"Bearer {self.token}":
            with self._lock:
                self.rejected.append("token")
            _send_json(h, 401, {"error": "bad token"})
            return
        try:
            message = json.loads(body)
            valid = (
                isinstance(message, dict)
                and isinstance(message.get("to"), str)
                and isinstance(message.get("text"), str)
                and message["to"].startswith("+")
            )
        except ValueError:
            valid = False
        if not valid:
            with self._lock:
                self.rejected.append("body")
            _send_json(h, 400, {"error": "to and text required"})
            return
        if self.status != 202:
            _send_json(h, self.status, {"error": "failing on purpose"})
            return
        with self._changed:
            self.messages.append({"to": message["to"], "text": message["text"]})
            self._changed.notify_all()
        _send_json(h, 202, {"id": f"SMS-{len(self.messages)}"})
