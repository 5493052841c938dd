"""The demo's case system: a small Open311 service for Malmö's street department
(Fastighets- och gatukontoret), run by ``serve`` beside the site in the embedded
default when the demo is loaded, so that a new user sees reports leave for a case
system and come back "in progress" and "fixed" without setting anything up.

It is part of the demo, not of the product: nothing outside ``config`` knows of
it, it is never started under production settings (``KNUTPUNKT_DEMO_CASE_SYSTEM``
is set in the development settings only), and it listens on loopback.

What it does, as a real street department's system would:

- ``POST requests.json`` opens a case and answers its ``service_request_id``
  (a repeated ``Idempotency-Key`` gets the same case);
- over the following minutes the case moves on: every case to ``in_progress``,
  two of three on to ``fixed`` (each with a public reply in Swedish);
- ``GET servicerequestupdates.json`` lists those updates that have happened, in
  the window asked for. Knutpunkt's own poller (``casehub.polling``, the
  connection has ``poll_updates``) reads them: the updates come in through the
  real intake, as a real case system's would, with no secret to set up.

Cases are kept in memory: a case opened before ``serve`` restarted does not move.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db import transaction

from municipalities.choices import BodyKind, ConnectionKind
from municipalities.models import (
    Body,
    Category,
    Connection,
    ConnectionService,
    Municipality,
    Route,
)

logger = logging.getLogger("knutpunkt.demo")

MALMO = "1280"
BODY_SLUG = "malmo-gatukontoret"
BODY_NAME = "Fastighets- och gatukontoret, Malmö"
CONNECTION_NAME = "Gatukontorets ärendesystem (demo)"
DEFAULT_PORT = 8311
PREFIX = "/open311/v2/"
# The categories Malmö's street department takes in the demo, with their
# service codes. (Not street lights or graffiti: those stay with the kommun's
# own inbox, where the demo's case handler changes their status.)
SERVICES = {
    "vagar-ovriga": "GK-VAG",
    "gang-och-cykelbana": "GK-GC",
    "trafiksignaler": "GK-SIGNAL",
    "vagmarken-och-skyltar": "GK-SKYLT",
}
IN_PROGRESS_NOTE = (
    "Tack för din anmälan! Vi har tittat på platsen och beställt arbetet hos "
    "vår entreprenör."
)
FIXED_NOTE = "Nu är felet åtgärdat. Tack för att du hörde av dig!"


def demo_settings() -> dict | None:
    """The demo case system's settings, or None where it is off (production)."""
    return getattr(settings, "KNUTPUNKT_DEMO_CASE_SYSTEM", None) or None


def endpoint_for(port: int) -> str:
    return f"http://127.0.0.1:{port}{PREFIX}"


def demo_connection() -> Connection | None:
    """The demo's Open311 connection for Malmö's street department, if loaded."""
    return Connection.objects.filter(
        body__slug=BODY_SLUG, name=CONNECTION_NAME, kind=ConnectionKind.OPEN311
    ).first()


@transaction.atomic
def demo_case_system_connect() -> Connection:
    """Give Malmö a street department whose case system is the demo's, taking the
    categories of ``SERVICES`` (idempotent; called by ``load_demo``)."""
    malmo = Municipality.objects.get(code=MALMO)
    body, _ = Body.objects.get_or_create(
        slug=BODY_SLUG, defaults={"name": BODY_NAME, "kind": BodyKind.MUNICIPAL}
    )
    body.municipalities.add(malmo)
    configured = demo_settings() or {}
    connection = demo_connection()
    if connection is None:
        connection = Connection.objects.create(
            body=body,
            name=CONNECTION_NAME,
            kind=ConnectionKind.OPEN311,
            endpoint=endpoint_for(configured.get("port", DEFAULT_PORT)),
            poll_updates=True,
            timeout_seconds=5.0,
        )
    for slug, code in SERVICES.items():
        category = Category.objects.filter(slug=slug).first()
        if category is None:
            continue
        ConnectionService.objects.get_or_create(
            connection=connection,
            category=category,
            defaults={"service_code": code, "service_name": category.name},
        )
        Route.objects.update_or_create(
            municipality=malmo,
            category=category,
            defaults={"body": body, "connection": connection},
        )
    return connection


# --- the service -----------------------------------------------------------------


@dataclass
class Case:
    number: int
    service_request_id: str
    service_code: str
    opened_at: datetime

    def updates(self, *, in_progress_after: float, fixed_after: float) -> list[dict]:
        """Every update this case will have, stamped with when it happens."""
        steps = [("in_progress", in_progress_after, IN_PROGRESS_NOTE)]
        if self.number % 3 != 0:  # two of three are fixed; the third stays in work
            steps.append(("fixed", fixed_after, FIXED_NOTE))
        return [
            {
                "update_id": f"{self.service_request_id}-{n}",
                "service_request_id": self.service_request_id,
                "status": status,
                "updated_datetime": _w3c(self.opened_at + timedelta(seconds=after)),
                "description": note,
                "media_url": "",
                "external_status_code": status.upper(),
            }
            for n, (status, after, note) in enumerate(steps, 1)
        ]


class DemoCaseSystem:
    """The Open311 service on a loopback port of its own thread.

    ``port`` 0, or a port that is taken, gets a free one: ``url`` says which.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        in_progress_after: float = 60.0,
        fixed_after: float = 240.0,
        clock=None,
    ):
        self.in_progress_after = in_progress_after
        self.fixed_after = max(fixed_after, in_progress_after)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.cases: dict[str, Case] = {}
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()
        try:
            self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        except OSError:
            self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return endpoint_for(self.port)

    def start(self) -> DemoCaseSystem:
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="demo-case-system", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what it answers ---------------------------------------------------------

    def open_case(self, form: dict, key: str) -> Case | str:
        """A new case (or the one of an earlier POST with the same key), or why
        the request is refused."""
        code = (form.get("service_code") or [""])[0]
        if code not in SERVICES.values():
            return f"Unknown service_code “{code[:50]}”."
        for field in ("lat", "long", "description"):
            if not (form.get(field) or [""])[0].strip():
                return f"{field} is required."
        with self._lock:
            if key and key in self._keys:
                return self.cases[self._keys[key]]
            number = len(self.cases) + 1
            case = Case(
                number=number,
                service_request_id=f"GK-{number:05d}",
                service_code=code,
                opened_at=self.clock(),
            )
            self.cases[case.service_request_id] = case
            if key:
                self._keys[key] = case.service_request_id
        return case

    def updates(self, start: datetime | None, end: datetime | None) -> list[dict]:
        """The updates that have happened, stamped from ``start`` to ``end``."""
        now = self.clock()
        end = min(end, now) if end else now
        with self._lock:
            cases = list(self.cases.values())
        found = []
        for case in cases:
            for update in case.updates(
                in_progress_after=self.in_progress_after, fixed_after=self.fixed_after
            ):
                moment = datetime.fromisoformat(update["updated_datetime"])
                if moment <= end and (start is None or moment >= start):
                    found.append(update)
        return found

    def services(self) -> list[dict]:
        return [
            {
                "service_code": code,
                "service_name": slug,
                "description": "",
                "metadata": False,
                "type": "realtime",
                "keywords": "",
                "group": "Gata",
            }
            for slug, code in SERVICES.items()
        ]

    def _handler(self):
        system = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002
                logger.debug("Demo case system: " + format, *args)

            def _answer(self, status: int, data) -> None:
                body = json.dumps(data, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int, description: str) -> None:
                self._answer(status, [{"code": status, "description": description}])

            def do_GET(self):  # noqa: N802
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                if parts.path == PREFIX + "services.json":
                    return self._answer(200, system.services())
                if parts.path != PREFIX + "servicerequestupdates.json":
                    return self._error(404, "Not found.")
                try:
                    start, end = (
                        _moment(query.get(name, [""])[0])
                        for name in ("start_date", "end_date")
                    )
                except ValueError:
                    return self._error(400, "start_date and end_date are W3C dates.")
                return self._answer(200, system.updates(start, end))

            def do_POST(self):  # noqa: N802
                if urlsplit(self.path).path != PREFIX + "requests.json":
                    return self._error(404, "Not found.")
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    return self._error(400, "Content-Length is not a number.")
                if length > 256 * 1024:
                    return self._error(413, "The request is too large.")
                form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
                case = system.open_case(form, self.headers.get("Idempotency-Key", ""))
                if isinstance(case, str):
                    return self._error(400, case)
                return self._answer(
                    201, [{"service_request_id": case.service_request_id}]
                )

        return Handler


def demo_case_system_start() -> DemoCaseSystem | None:
    """Start the demo case system where the demo's connection expects it, when
    the settings have it and the demo is loaded; None otherwise. Should its port
    be taken, it listens on a free one and the connection is pointed there."""
    configured = demo_settings()
    if configured is None:
        return None
    connection = demo_connection()
    if connection is None:
        return None
    wanted = urlsplit(connection.endpoint)
    port = wanted.port if wanted.hostname == "127.0.0.1" and wanted.port else 0
    system = DemoCaseSystem(
        port=port,
        in_progress_after=configured.get("in_progress_after_seconds", 60.0),
        fixed_after=configured.get("fixed_after_seconds", 240.0),
    ).start()
    if connection.endpoint != system.url:
        Connection.objects.filter(pk=connection.pk).update(endpoint=system.url)
    return system


def _moment(text: str) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
