"""Live push: a case system's signal to every websocket watching the report.

One command: ``python bench/live.py [--profile embedded|scaled|both]
[--watchers 1000] [--spread 10000:1000] [--clients 1] [--smoke]``.

For each profile a fresh instance (devkit.instance.profile_env: a new SQLite file and
the in-memory channel layer, or a new PostgreSQL database with Redis as channel
layer and cache) is migrated, given the demo data, a webhook connection for
Malmö (its secret in the servers' environment) and, in bulk, as many open Malmö
reports as the spread needs, each with a delivery through that connection
already marked delivered, so that the connection's signals about them are taken.
Embedded: one ``manage.py serve`` process. Scaled: two ``serve`` processes,
watchers split evenly across them and signals posted to them in turn, and one
``manage.py worker``.

The watchers are websocket clients in separate client processes (asyncio, one
event loop each, websockets' sans-I/O protocol), opened as a browser on
http://localhost:<port>/ opens them.
Signals are signed ``report.status`` webhooks (a status change and a note each,
unique webhook-id) POSTed from this process at fixed intervals. A signal's
latency at a watcher is from just before its POST to the moment the frame with
that event's id has been read by the watcher's client; every (signal, watcher)
pair counts. Errors: frames that never came, frames for another report or twice,
sockets that closed or failed to open.

1. N watchers of one report, M signals to it.
2. The spread: S sockets over R reports (S/R each), all held open at once for a
   while (past the servers' websocket ping interval), then signals to a sample
   of distinct reports.
3. Resident memory (VmRSS) of the serve process(es) before any socket, with the
   N sockets, after closing them and with the S sockets.

Baseline, measured in the same run after each profile's scenarios: the same
client processes opening the same numbers of sockets to a minimal websocket
server, and receiving the same frame (the text of a real frame of the warm-up,
with its event id, report and time replaced) for the same planned signals: one
process serving a bare ASGI application with the same uvicorn configuration as
``serve`` (``infra.server.uvicorn_config``), where a POST of the signal's
body hands the frame straight to every socket watching that report; no
Django, no signature check, no database, no channel layer. That is the floor
the transport (the server's event loop, uvicorn's websocket protocol, the
loopback and the clients) sets on the machine of the run; the ratio is the
figure's p50 (and p99) over the baseline's.

``--smoke``: 20 watchers of one report and 40 over 4 reports, 4 signals each,
shorter pauses; nothing written.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    add_smoke,
    cpu_description,
    finish,
    machine_cpu,
    named_cpu,
    percentile,
    process_cpu,
    ratio,
    today,
    write_section,
)
from bench.common import result as report_figure  # noqa: E402

HEADING = "## Live push"
TARGET_P99_MS = 100.0
BASELINE_SIGNAL = "/bench/signal/"  # the baseline server's signal path
SECRET_ENV = "KNUTPUNKT_CONNECTION_SECRET_BENCHLIVE"  # noqa: S105 (a variable name)
STATUSES = ("investigating", "in_progress", "action_scheduled")
FILES_WANTED = 65536
ATTEMPTS = 5  # handshakes per socket at most (the report page retries too)

# Run in the instance by ``manage.py shell -c``: the webhook connection and the
# reports, each delivered through it, in bulk.
SETUP = """
import json, random
from django.db import transaction
from django.utils import timezone
from municipalities.choices import ConnectionKind
from municipalities.models import Body, Category, Connection, Municipality
from casehub.models import Delivery
from reports.models import Report

COUNT = {count}
rnd = random.Random(7)
with transaction.atomic():
    body = Body.objects.get(slug="kommun-malmo")
    connection = Connection.objects.create(
        body=body, name="Bench webhook", kind=ConnectionKind.WEBHOOK,
        endpoint="http://127.0.0.1:9/", secret_env={secret_env!r},
        timeout_seconds=2.0)
    malmo = Municipality.objects.get(code="1280")
    category = Category.objects.get(slug="gatubelysning")
    now = timezone.now()
    reports = Report.objects.bulk_create([
        Report(lat=55.6050 + rnd.uniform(-0.02, 0.02),
               lon=13.0038 + rnd.uniform(-0.03, 0.03),
               municipality=malmo, category=category, body=body,
               title=f"Lampan är trasig {{n + 1}}",
               description="Gatlampan blinkar hela natten.",
               name="Bench Marksson", email=f"bench{{n}}@example.org",
               status="open", confirmed_at=now, status_changed_at=now)
        for n in range(COUNT)], batch_size=500)
    Delivery.objects.bulk_create([
        Delivery(report=r, connection=connection, state="delivered",
                 external_id=f"CASE-{{r.pk}}", next_attempt_at=now,
                 queued_at=now, delivered_at=now)
        for r in reports], batch_size=500)
print(json.dumps({{"connection": connection.pk, "reports": [r.pk for r in reports]}}))
"""


# --- The client processes: websocket watchers on one asyncio event loop each ------


def client_main() -> None:
    """A client process: commands as JSON lines on stdin, answers on stdout."""
    asyncio.run(_client_loop())


class Watcher(asyncio.Protocol):
    """One websocket client, as lean as a client can be: websockets' sans-I/O
    protocol (framing, handshake, answering the server's pings, closing) driven
    straight from the event loop's callbacks. A frame's time is when its bytes
    were read, before parsing, so the client's own cost adds least to the
    latency it measures."""

    def __init__(self, idx: int, uri: str, origin: str, frames: list, closed: dict):
        from websockets.client import ClientProtocol
        from websockets.typing import Origin
        from websockets.uri import parse_uri

        self.idx, self.frames, self.closed = idx, frames, closed
        self.protocol = ClientProtocol(
            parse_uri(uri), origin=Origin(origin), max_size=None
        )
        self.opened = asyncio.get_running_loop().create_future()
        self.gone = asyncio.get_running_loop().create_future()
        self.transport = None
        self.closing = False

    def connection_made(self, transport):
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data):
        from websockets.frames import Opcode
        from websockets.http11 import Response

        when = time.monotonic()
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                if not self.opened.done():
                    if self.protocol.handshake_exc is None:
                        self.opened.set_result(None)
                    else:
                        self.opened.set_exception(self.protocol.handshake_exc)
            elif event.opcode is Opcode.TEXT:
                self.frames.append((self.idx, when, event.data))
        self._flush()

    def _flush(self):
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def eof_received(self):
        self.protocol.receive_eof()
        self._flush()

    def connection_lost(self, exc):
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed in the handshake"))
        elif not self.closing:
            code = self.protocol.close_rcvd.code if self.protocol.close_rcvd else None
            self.closed[self.idx] = f"code {code}"
        if not self.gone.done():
            self.gone.set_result(None)

    async def close(self):
        self.closing = True
        if self.transport.is_closing():
            return
        self.protocol.send_close(1001)
        self._flush()
        try:
            await asyncio.wait_for(asyncio.shield(self.gone), 2)
        except TimeoutError:
            self.transport.abort()


async def _client_loop() -> None:
    from websockets.exceptions import InvalidStatus

    sockets: dict[int, Watcher] = {}
    frames: list[tuple[int, float, bytes]] = []
    closed: dict[int, str] = {}
    loop = asyncio.get_running_loop()

    async def open_one(idx, port, report, gate, handshakes, errors, failures):
        """Open one socket; after a failed handshake try again as the report
        page does (after 1 s, then twice as long each time)."""
        pause = 1.0
        for attempt in range(ATTEMPTS):
            async with gate:
                started = time.monotonic()
                watcher = None
                try:
                    _transport, watcher = await asyncio.wait_for(
                        loop.create_connection(
                            lambda: Watcher(
                                idx,
                                f"ws://localhost:{port}/ws/reports/{report}/",
                                f"http://localhost:{port}",
                                frames,
                                closed,
                            ),
                            "127.0.0.1",
                            port,
                        ),
                        60,
                    )
                    await asyncio.wait_for(watcher.opened, 60)
                except InvalidStatus as exc:
                    failure = f"handshake {exc.response.status_code}"
                except Exception as exc:  # noqa: BLE001
                    failure = f"{type(exc).__name__}: {exc}"[:200]
                else:
                    handshakes.append(time.monotonic() - started)
                    sockets[idx] = watcher
                    return
                if watcher is not None and watcher.transport is not None:
                    watcher.transport.abort()
            failures.append(failure)
            if attempt + 1 < ATTEMPTS:
                await asyncio.sleep(pause)
                pause *= 2
        errors.append(failure)

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 26)  # a command lists every socket
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )

    def answer(data: dict) -> None:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()

    while True:
        line = await reader.readline()
        if not line:
            break
        command = json.loads(line)
        if command["cmd"] == "open":
            gate = asyncio.Semaphore(command["concurrency"])
            handshakes: list[float] = []
            errors: list[str] = []
            failures: list[str] = []
            cpu, started = time.process_time(), time.monotonic()
            await asyncio.gather(
                *(
                    open_one(idx, port, report, gate, handshakes, errors, failures)
                    for idx, port, report in command["targets"]
                )
            )
            answer(
                {
                    "opened": len(handshakes),
                    "handshakes": handshakes,
                    "errors": errors,
                    "failures": failures,
                    "seconds": time.monotonic() - started,
                    "cpu": time.process_time() - cpu,
                }
            )
        elif command["cmd"] == "cpu":
            answer({"cpu": time.process_time()})
        elif command["cmd"] == "collect":
            got = frames[:]
            frames.clear()
            parsed = []
            for idx, when, raw in got:
                try:
                    frame = json.loads(raw)
                    parsed.append(
                        [idx, when, frame.get("id"), frame.get("report"),
                         frame.get("created_at")]
                    )  # fmt: skip
                except ValueError:
                    parsed.append([idx, when, None, None, None])
            answer(
                {
                    "frames": parsed,
                    "sample": got[0][2].decode() if got else None,
                    "closed": closed,
                    "open": sum(1 for w in sockets.values() if not w.gone.done()),
                    "cpu": time.process_time(),
                }
            )
        elif command["cmd"] == "close":
            started = time.monotonic()
            await asyncio.gather(
                *(w.close() for w in sockets.values()), return_exceptions=True
            )
            sockets.clear()
            closed.clear()
            frames.clear()
            answer({"seconds": time.monotonic() - started})
        elif command["cmd"] == "quit":
            answer({})
            break


class Clients:
    """The client processes, driven from this one."""

    def __init__(self, count: int, log_dir: Path, profile: str):
        self.processes = [
            subprocess.Popen(
                [sys.executable, __file__, "--client"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=(log_dir / f"{profile}-client-{n}.log").open("w"),
                text=True,
                cwd=ROOT,
            )
            for n in range(count)
        ]

    def ask(self, commands: list[dict]) -> list[dict]:
        for process, command in zip(self.processes, commands, strict=True):
            process.stdin.write(json.dumps(command) + "\n")
            process.stdin.flush()
        answers = []
        for process in self.processes:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"client process {process.pid} died")
            answers.append(json.loads(line))
        return answers

    def all(self, command: dict) -> list[dict]:
        return self.ask([command] * len(self.processes))

    def stop(self) -> None:
        for process in self.processes:
            try:
                if process.poll() is None:
                    process.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                    process.stdin.flush()
                    process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()


# --- Measuring processes -----------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class CpuMeter:
    """Cores busy over a phase: the serve processes, the client processes, the
    worker, Redis and PostgreSQL, this process, and everything else."""

    def __init__(self, servers, worker, clients: Clients):
        self.servers, self.worker, self.clients = servers, worker, clients
        self.start = self._read()

    def _read(self) -> dict:
        return {
            "wall": time.monotonic(),
            "serve": sum(process_cpu(p.pid) for p in self.servers),
            "worker": process_cpu(self.worker.pid) if self.worker else 0.0,
            "clients": sum(process_cpu(p.pid) for p in self.clients.processes),
            "bench": time.process_time(),
            "stores": named_cpu(("postgres", "redis-server")),
            "machine": machine_cpu(),
        }

    def stop(self) -> dict:
        end, start = self._read(), self.start
        wall = end["wall"] - start["wall"]
        used = {
            k: end[k] - start[k]
            for k in ("serve", "worker", "clients", "bench", "machine")
        }
        used["stores"] = sum(
            cpu - start["stores"].get(pid, 0.0) for pid, cpu in end["stores"].items()
        )
        used["other"] = max(
            0.0,
            used["machine"]
            - sum(used[k] for k in ("serve", "worker", "clients", "bench", "stores")),
        )
        return {"seconds": used, "cores": {k: v / wall for k, v in used.items()}}


# --- The instance --------------------------------------------------------------------


def raise_open_files() -> tuple[int, int, str]:
    """Lift this process's open-files limit (the servers and clients inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    note = ""
    if hard != resource.RLIM_INFINITY and hard < FILES_WANTED:
        try:  # only a privileged process may raise the hard limit
            resource.setrlimit(resource.RLIMIT_NOFILE, (FILES_WANTED, FILES_WANTED))
            return FILES_WANTED, FILES_WANTED, f"hard limit raised from {hard:,}"
        except (ValueError, OSError):
            note = "the hard limit; it could not be raised"
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard, hard, note


# --- The baseline: a minimal websocket server ----------------------------------------


def baseline_server(port: int) -> None:
    """Serve the baseline: a bare ASGI application under ``serve``'s uvicorn
    configuration. A websocket at /ws/reports/<id>/ is accepted and held; a POST
    to /bench/signal/<id> (its JSON body: the frame to send, without its id)
    sends the frame, numbered, to every socket of that report and answers 202
    with the number as ``event_id``; any GET answers 200."""
    import itertools
    from datetime import UTC, datetime

    import uvicorn

    from infra.server import uvicorn_config

    watchers: dict[int, set] = {}
    numbers = itertools.count(1)

    async def app(scope, receive, send):
        if scope["type"] == "websocket":
            report = int(scope["path"].rstrip("/").rsplit("/", 1)[-1])
            await receive()  # websocket.connect
            await send({"type": "websocket.accept"})
            watchers.setdefault(report, set()).add(send)
            try:
                while (await receive())["type"] != "websocket.disconnect":
                    pass
            finally:
                watchers[report].discard(send)
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        answer, status = b"ok", 200
        if scope["method"] == "POST" and scope["path"].startswith(BASELINE_SIGNAL):
            report = int(scope["path"].rstrip("/").rsplit("/", 1)[-1])
            number = next(numbers)
            frame = json.loads(body)
            frame.update(
                id=number, report=report, created_at=datetime.now(UTC).isoformat()
            )
            text = json.dumps(frame)
            for watcher in list(watchers.get(report, ())):
                await watcher({"type": "websocket.send", "text": text})
            answer, status = json.dumps({"event_id": number}).encode(), 202
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    uvicorn.Server(uvicorn_config(app, "127.0.0.1", port)).run()


def shell(env: dict, script: str) -> str:
    """Run a script in the instance; the last line it printed."""
    from devkit.instance import manage

    try:
        done = manage(env, "shell", "-c", script)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"manage.py shell failed:\n{exc.stderr[-3000:]}") from None
    return done.stdout.strip().splitlines()[-1]


def healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz", headers={"Host": "localhost"})
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


class Signals:
    """Signed webhook signals POSTed to the servers, a new HTTP connection each
    (as a case system's webhook sender opens one)."""

    def __init__(
        self, ports: list[int], connection_id: int, secret: str, frame: str = ""
    ):
        self.ports, self.connection_id, self.secret = ports, connection_id, secret
        self.count = 0
        # For the baseline server: the frame it is to send, POSTed as the body.
        self.frame = frame

    def post(self, port: int, report_id: int, note: str) -> dict:
        from casehub.signing import sign_headers

        self.count += 1
        data = {
            "report_id": report_id,
            "status": STATUSES[self.count % len(STATUSES)],
            "note": note,
        }
        body = json.dumps({"type": "report.status", "data": data}).encode()
        path = f"/api/v1/connections/{self.connection_id}/signals"
        if self.frame:
            path, body = f"{BASELINE_SIGNAL}{report_id}", self.frame.encode()
        msg_id = f"msg_{uuid.uuid4().hex}"
        headers = {
            **sign_headers([self.secret], msg_id, int(time.time()), body),
            "Content-Type": "application/json",
            "Host": f"localhost:{port}",
        }
        sent = {"report": report_id, "port": port, "event_id": None}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        wall, started = time.time(), time.monotonic()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            status, answer = response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            return {**sent, "t0": started, "wall": wall, "status": None,
                    "error": f"{type(exc).__name__}: {exc}"}  # fmt: skip
        finally:
            conn.close()
        answered = time.monotonic()
        try:
            answer = json.loads(answer)
        except ValueError:
            answer = {}
        return {
            **sent,
            "t0": started,
            "wall": wall,
            "answered": answered,
            "status": status,
            "event_id": answer.get("event_id"),
            "error": None if status == 202 else f"{status} {answer}"[:200],
        }


# --- One scenario ----------------------------------------------------------------------


def open_watchers(clients: Clients, targets: list, concurrency: int) -> dict:
    """Open the sockets ``targets`` ([idx, port, report]) split over the clients."""
    n = len(clients.processes)
    answers = clients.ask(
        [
            {
                "cmd": "open",
                "targets": targets[i::n],
                "concurrency": max(1, concurrency // n),
            }
            for i in range(n)
        ]
    )
    handshakes = [t for a in answers for t in a["handshakes"]]
    errors = [e for a in answers for e in a["errors"]]
    failures = [e for a in answers for e in a["failures"]]
    seconds = max(a["seconds"] for a in answers)
    return {
        "opened": sum(a["opened"] for a in answers),
        "errors": errors,
        "failed_handshakes": len(failures),
        "failure_kinds": sorted(set(failures))[:3],
        "seconds": seconds,
        "per_second": len(handshakes) / seconds if seconds else 0.0,
        "handshake_p50_ms": percentile(handshakes, 0.5) * 1000 if handshakes else None,
        "handshake_p99_ms": percentile(handshakes, 0.99) * 1000 if handshakes else None,
        "client_cpu": sum(a["cpu"] for a in answers),
    }


def post_signals(signals: Signals, plan: list[tuple[int, int]], interval: float):
    """POST the planned (port, report) signals at fixed intervals."""
    sent = []
    begin = time.monotonic()
    for n, (port, report) in enumerate(plan):
        delay = begin + n * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent.append(
            signals.post(
                port,
                report,
                f"Bench signal {n + 1}: ny lampa beställd ({uuid.uuid4().hex[:8]}).",
            )
        )
    return sent


def analyse(sent: list[dict], watchers: dict[int, int], got: list[dict]) -> dict:
    """Latency per (signal, watcher) pair and the errors.

    ``watchers`` maps socket index to report; ``got`` are the clients' collect
    answers."""
    from datetime import datetime

    frames = [f for answer in got for f in answer["frames"]]
    closed = {int(k): v for answer in got for k, v in answer["closed"].items()}
    by_report: dict[int, list[int]] = {}
    for idx, report in watchers.items():
        by_report.setdefault(report, []).append(idx)
    arrivals: dict[tuple[int, int], list[float]] = {}
    created: dict[int, float] = {}
    stray = 0
    event_report = {s["event_id"]: s["report"] for s in sent if s.get("event_id")}
    for idx, when, event_id, report, created_at in frames:
        if event_id not in event_report or watchers.get(idx) != report:
            stray += 1
            continue
        arrivals.setdefault((event_id, idx), []).append(when)
        if created_at and event_id not in created:
            created[event_id] = datetime.fromisoformat(created_at).timestamp()
    latencies, missing, twice, failed = [], 0, 0, 0
    per_signal = []
    for n, s in enumerate(sent):
        expected = by_report.get(s["report"], [])
        if s.get("event_id") is None:
            failed += 1
            missing += len(expected)
            continue
        mine = []
        for idx in expected:
            times = arrivals.get((s["event_id"], idx))
            if not times:
                missing += 1
                continue
            twice += len(times) - 1
            mine.append(times[0] - s["t0"])
        latencies += mine
        if mine:
            row = {
                "signal": n + 1,
                "post_ms": (s["answered"] - s["t0"]) * 1000,
                "first_ms": min(mine) * 1000,
                "p90_ms": percentile(mine, 0.9) * 1000,
                "last_ms": max(mine) * 1000,
            }
            if s["event_id"] in created:
                row["row_ms"] = (created[s["event_id"]] - s["wall"]) * 1000
            per_signal.append(row)
    pairs = sum(len(by_report.get(s["report"], [])) for s in sent)

    def median(key):
        values = [r[key] for r in per_signal if key in r]
        return percentile(values, 0.5) if values else None

    return {
        "signals": len(sent),
        "failed_posts": failed,
        "post_errors": [s["error"] for s in sent if s.get("error")][:3],
        "pairs": pairs,
        "received": len(latencies),
        "missing": missing,
        "duplicates": twice,
        "stray": stray,
        "closed": len(closed),
        "closed_reasons": sorted(set(closed.values()))[:3],
        "p50_ms": percentile(latencies, 0.5) * 1000 if latencies else None,
        "p99_ms": percentile(latencies, 0.99) * 1000 if latencies else None,
        "max_ms": max(latencies) * 1000 if latencies else None,
        # Medians over the signals: POST answered, event row written (the
        # event's created_at, a wall clock), first and last watcher reached.
        "post_ms": median("post_ms"),
        "row_ms": median("row_ms"),
        "first_ms": median("first_ms"),
        "last_ms": median("last_ms"),
        # The slowest signal: its POST answered and its last watcher reached.
        "worst_post_ms": max((r["post_ms"] for r in per_signal), default=None),
        "worst_last_ms": max((r["last_ms"] for r in per_signal), default=None),
        "per_signal": per_signal,
    }


def scenario(
    name, clients, signals, servers, worker, targets, plan, args, settle=None, hold=0.0
) -> dict:
    """Open the sockets, maybe hold them, post the signals, collect, close."""
    watchers = {idx: report for idx, _port, report in targets}
    print(f"  {name}: opening {len(targets):,} sockets", flush=True)
    meter = CpuMeter(servers, worker, clients)
    opened = open_watchers(clients, targets, args.connect_concurrency)
    connect_cpu = meter.stop()
    opened["serve_ms_per_socket"] = (
        connect_cpu["seconds"]["serve"] / max(1, opened["opened"]) * 1000
    )
    opened["cores"] = connect_cpu["cores"]
    print(
        f"  {name}: {opened['opened']:,} open in {opened['seconds']:.1f} s "
        f"({opened['per_second']:.0f}/s), {len(opened['errors'])} never opened, "
        f"{opened['failed_handshakes']} failed handshakes "
        f"{opened['failure_kinds']}; handshake p50 "
        f"{opened['handshake_p50_ms'] or 0:.0f} ms, p99 "
        f"{opened['handshake_p99_ms'] or 0:.0f} ms",
        flush=True,
    )
    time.sleep(args.pause)  # let the servers finish joining groups
    rss = [rss_mb(p.pid) for p in servers]
    # Idle: the sockets held open, nothing sent (at least args.quiet seconds).
    print(f"  {name}: holding them {max(hold, args.quiet):.0f} s", flush=True)
    meter = CpuMeter(servers, worker, clients)
    time.sleep(max(hold, args.quiet))
    idle = meter.stop()["cores"]
    held = clients.all({"cmd": "collect"})
    still_open = sum(a["open"] for a in held)
    closed_while_held = sum(len(a["closed"]) for a in held)
    load_before = os.getloadavg()[0]
    meter = CpuMeter(servers, worker, clients)
    sent = post_signals(signals, plan, args.interval)
    time.sleep(args.settle if settle is None else settle)
    cpu = meter.stop()
    load_after = os.getloadavg()[0]
    got = clients.all({"cmd": "collect"})
    result = analyse(sent, watchers, got)
    received = max(1, result["received"])
    clients.all({"cmd": "close"})
    result.update(
        sample=next((a["sample"] for a in got if a.get("sample")), None),
        name=name,
        sockets=len(targets),
        opened=opened,
        rss=rss,
        held_open=still_open,
        closed_while_held=closed_while_held,
        hold=hold,
        idle=idle,
        cpu=cpu["cores"],
        client_us_per_frame=cpu["seconds"]["clients"] / received * 1e6,
        serve_us_per_frame=cpu["seconds"]["serve"] / received * 1e6,
        load=(load_before, load_after),
    )
    result["errors"] = (
        result["missing"]
        + result["duplicates"]
        + result["stray"]
        + result["closed"]  # all closed by the end, while held or later
        + len(opened["errors"])
        + result["failed_posts"]
    )
    print(f"  {name}: {summary(result)}", flush=True)
    if args.log_dir:  # each signal's figures, to look into the slow ones
        profile = "scaled" if worker else "embedded"
        slug = "".join(c if c.isalnum() else "-" for c in name.lower())
        path = Path(args.log_dir) / f"signals-{profile}-{slug}.json"
        path.write_text(json.dumps(result["per_signal"], indent=1))
    return result


def summary(r: dict) -> str:
    def ms(v):
        return "—" if v is None else f"{v:.0f}"

    return (
        f"{r['held_open']:,} still open after holding, {r['closed_while_held']} "
        f"closed meanwhile; {r['received']:,}/{r['pairs']:,} frames, p50 {ms(r['p50_ms'])} ms, "
        f"p99 {ms(r['p99_ms'])} ms, max {ms(r['max_ms'])} ms, errors {r['errors']} "
        f"(missing {r['missing']}, closed {r['closed']}, "
        f"failed to open {len(r['opened']['errors'])}, stray {r['stray']}, "
        f"twice {r['duplicates']}, failed POSTs {r['failed_posts']}); per signal "
        f"(median): POST answered {ms(r['post_ms'])} ms, event row "
        f"{ms(r['row_ms'])} ms, first watcher {ms(r['first_ms'])} ms, last "
        f"{ms(r['last_ms'])} ms; cores busy {cpu_text(r['cpu'])} (held idle "
        f"{cpu_text(r['idle'])}; opening {cpu_text(r['opened']['cores'])}, "
        f"{r['opened']['serve_ms_per_socket']:.1f} ms serve CPU per socket); load "
        f"{r['load'][0]:.1f}-{r['load'][1]:.1f}"
    )


def cpu_text(cores: dict) -> str:
    return " / ".join(
        f"{cores[k]:.2f}" for k in ("serve", "clients", "worker", "stores", "other")
    )


# --- One profile -------------------------------------------------------------------


def run_baseline(
    profile: str, args, logs_dir: Path, report_ids, sample: str, secret: str
) -> list:
    """The same scenarios against the minimal websocket server: the same client
    processes, the same sockets and signals, the same frame."""
    from devkit.instance import free_port, stop

    total, per_report = args.spread
    port = free_port()
    path = logs_dir / f"{profile}-baseline-server.log"
    with path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, __file__, "--baseline-server", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    clients = Clients(args.clients, logs_dir, f"{profile}-baseline")
    # Signed as the real ones are, though the minimal server checks nothing.
    signals = Signals([port], 0, secret, frame=sample)
    try:
        deadline = time.monotonic() + 60
        while not healthy(port):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(
                    f"the baseline server did not start:\n{path.read_text()}"
                )
            time.sleep(0.2)
        spare = report_ids[per_report + 1]
        scenario(
            "baseline warm-up", clients, signals, [server], None, [[0, port, spare]],
            [(port, spare)] * 2, args, settle=1.0,
        )  # fmt: skip
        one = report_ids[per_report]
        first = scenario(
            f"baseline, {args.watchers:,} watchers of one report", clients, signals,
            [server], None, [[i, port, one] for i in range(args.watchers)],
            [(port, one)] * args.signals, args,
        )  # fmt: skip
        spread_reports = report_ids[:per_report]
        sample_reports = random.Random(20240601).sample(
            spread_reports, min(args.spread_signals, per_report)
        )
        second = scenario(
            f"baseline, {total:,} watchers over {per_report:,} reports",
            clients, signals, [server], None,
            [[i, port, spread_reports[i % per_report]] for i in range(total)],
            [(port, r) for r in sample_reports], args,
        )  # fmt: skip
    finally:
        clients.stop()
        stop([server])
    return [first, second]


def run_profile(profile: str, args) -> dict:
    from devkit.instance import free_port, instance_setup, profile_env_for, start, stop
    from devkit.servers import make_secret

    secret = make_secret()
    total, per_report = args.spread
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        tmp = Path(tmp)
        env = stack.enter_context(
            profile_env_for(
                profile,
                tmp / "var",
                database_url=args.database_url,
                redis_url=args.redis_url,
                **{SECRET_ENV: secret},
            )
        )
        if args.settings:
            env["DJANGO_SETTINGS_MODULE"] = args.settings
        if args.pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (args.pythonpath, env.get("PYTHONPATH")) if p
            )
        clock = time.monotonic()
        ports = [free_port()]
        while profile == "scaled" and len(ports) < 2:
            port = free_port()
            if port not in ports:
                ports.append(port)
        instance_setup(env, ports[0])
        # The spread's reports, then one for the watchers of one report and
        # one for the warm-up, so that no scenario inherits another's groups.
        reports_needed = per_report + 2
        setup = json.loads(
            shell(env, SETUP.format(count=reports_needed, secret_env=SECRET_ENV))
        )
        report_ids = setup["reports"]
        print(
            f"{profile}: instance with {len(report_ids):,} reports ready in "
            f"{time.monotonic() - clock:.0f} s",
            flush=True,
        )
        versions = {}
        if profile == "scaled":
            import psycopg
            import redis

            with psycopg.connect(env["DATABASE_URL"]) as conn:
                versions["database"] = (
                    "PostgreSQL "
                    + (conn.execute("SHOW server_version").fetchone()[0].split()[0])
                )
            info = redis.Redis.from_url(args.redis_url).info("server")
            versions["redis"] = f"Redis {info['redis_version']}"
        else:
            import sqlite3

            versions["database"] = f"SQLite {sqlite3.sqlite_version}"

        processes, logs = [], []
        logs_dir = Path(args.log_dir) if args.log_dir else tmp
        logs_dir.mkdir(parents=True, exist_ok=True)
        servers = []
        for n, port in enumerate(ports):
            path = logs_dir / f"{profile}-serve-{n}.log"
            logs.append(path)
            servers.append(
                start(
                    env,
                    "serve",
                    "--port",
                    str(port),
                    output=stack.enter_context(path.open("w")),
                )
            )
        processes += servers
        worker = None
        if profile == "scaled":
            path = logs_dir / f"{profile}-worker.log"
            logs.append(path)
            worker = start(
                env, "worker", "--interval", "0.2",
                output=stack.enter_context(path.open("w")),
            )  # fmt: skip
            processes.append(worker)
        clients = Clients(args.clients, logs_dir, profile)
        signals = Signals(ports, setup["connection"], secret)
        try:
            deadline = time.monotonic() + 120
            for port in ports:
                while not healthy(port):
                    if time.monotonic() > deadline or any(
                        p.poll() is not None for p in processes
                    ):
                        raise RuntimeError(
                            "the servers did not start:\n"
                            + "\n".join(p.read_text()[-2000:] for p in logs)
                        )
                    time.sleep(0.2)
            # Warm-up, not counted: one watcher and one signal on each server
            # (first template renders, first channel-layer round trips).
            spare = report_ids[per_report + 1]
            warm = scenario(
                "warm-up", clients, signals, servers, worker,
                [[i, port, spare] for i, port in enumerate(ports)],
                [(port, spare) for port in ports] * 2, args, settle=1.0,
            )  # fmt: skip
            time.sleep(args.pause)
            rss_before = [rss_mb(p.pid) for p in servers]

            one = report_ids[per_report]
            targets = [[i, ports[i % len(ports)], one] for i in range(args.watchers)]
            plan = [(ports[n % len(ports)], one) for n in range(args.signals)]
            first = scenario(
                f"{args.watchers:,} watchers of one report", clients, signals,
                servers, worker, targets, plan, args,
            )  # fmt: skip
            time.sleep(args.settle)
            rss_closed = [rss_mb(p.pid) for p in servers]

            spread_reports = report_ids[:per_report]
            each = total // per_report
            # Socket i watches report i mod R; a report's watchers alternate
            # between the servers.
            targets = [
                [
                    i,
                    ports[(i // per_report) % len(ports)],
                    spread_reports[i % per_report],
                ]
                for i in range(total)
            ]
            sample = random.Random(20240601).sample(
                spread_reports, min(args.spread_signals, per_report)
            )
            plan = [(ports[n % len(ports)], r) for n, r in enumerate(sample)]
            second = scenario(
                f"{total:,} watchers over {per_report:,} reports ({each} each)",
                clients, signals, servers, worker, targets, plan, args,
                hold=args.hold,
            )  # fmt: skip
            time.sleep(args.settle)
            rss_end = [rss_mb(p.pid) for p in servers]
        finally:
            clients.stop()
            stop(processes)
        log_text = "\n".join(p.read_text() for p in logs)
        log_errors = Counter(
            ln.split(" ERROR ", 1)[1].split(": ", 1)[-1][:120]
            for ln in log_text.splitlines()
            if " ERROR " in ln
        )
        sample = warm["sample"] or first["sample"]
        if not sample:
            raise RuntimeError("no frame reached a watcher: no frame for the baseline")
        print(f"{profile}: the baseline, a minimal websocket server", flush=True)
        baseline = run_baseline(profile, args, logs_dir, report_ids, sample, secret)
    for run, base in zip((first, second), baseline, strict=True):
        run["baseline"] = base
    memory = {
        "before": sum(rss_before),
        "with_watchers": sum(first["rss"]),
        "after_closing": sum(rss_closed),
        "with_spread": sum(second["rss"]),
        "after_all": sum(rss_end),
    }
    memory["per_1000_watchers"] = (memory["with_watchers"] - memory["before"]) / (
        args.watchers / 1000
    )
    memory["per_1000_spread"] = (memory["with_spread"] - memory["before"]) / (
        total / 1000
    )
    memory["per_1000_spread_from_closed"] = (
        memory["with_spread"] - memory["after_closing"]
    ) / (total / 1000)
    print(
        f"{profile}: RSS of the serve process(es) {memory['before']:.0f} MB before, "
        f"{memory['with_watchers']:.0f} MB with {args.watchers:,} sockets, "
        f"{memory['after_closing']:.0f} MB after closing them, "
        f"{memory['with_spread']:.0f} MB with {total:,}; "
        f"{memory['per_1000_spread']:.1f} MB per 1,000 sockets; "
        f"{sum(log_errors.values())} errors in the servers' logs",
        flush=True,
    )
    return {
        "profile": profile,
        "servers": len(ports),
        "versions": versions,
        "runs": [first, second],
        "memory": memory,
        "log_errors": log_errors.most_common(4),
    }


# --- The command -----------------------------------------------------------------------


def shown_arguments() -> list[str]:
    """The command's arguments, less those naming folders of this machine."""
    shown, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
        elif arg in ("--log-dir", "--pythonpath"):
            skip = True
        elif not arg.startswith(("--log-dir=", "--pythonpath=")):
            shown.append(arg)
    return shown


def parse_spread(value: str) -> tuple[int, int]:
    total, reports = (int(v) for v in value.split(":"))
    if total < reports or reports < 1:
        raise argparse.ArgumentTypeError("SOCKETS:REPORTS with SOCKETS >= REPORTS >= 1")
    return total, reports


def verdict(run: dict) -> str:
    if run["p99_ms"] is None:
        return "fail"
    ok = run["p99_ms"] <= TARGET_P99_MS and run["errors"] == 0
    return "pass" if ok else "fail"


def ms(value) -> str:
    return "—" if value is None else f"{value:.0f}"


def times(run: dict, base: dict, key: str) -> str:
    """The figure over the baseline's, for one of the latency keys."""
    if run[key] is None or base[key] is None:
        return "—"
    return f"{ratio(run[key], base[key]):.1f}"


def main() -> None:
    if "--client" in sys.argv[1:]:
        client_main()
        return
    if "--baseline-server" in sys.argv[1:]:
        baseline_server(int(sys.argv[sys.argv.index("--baseline-server") + 1]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profile", choices=["embedded", "scaled", "both"], default="both"
    )
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--signals", type=int, default=20)
    parser.add_argument(
        "--spread", type=parse_spread, default=(10_000, 1000), metavar="SOCKETS:REPORTS"
    )
    parser.add_argument("--spread-signals", type=int, default=50)
    parser.add_argument(
        "--interval", type=float, default=0.5, help="seconds between signals"
    )
    parser.add_argument(
        "--hold", type=float, default=30.0,
        help="seconds the spread's sockets are held before the signals",
    )  # fmt: skip
    parser.add_argument("--clients", type=int, default=1, help="client processes")
    parser.add_argument(
        "--connect-concurrency", type=int, default=50,
        help="handshakes in flight at once, over all client processes",
    )  # fmt: skip
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    )
    parser.add_argument(
        "--settings",
        help="settings module for the server processes instead of the development "
        "settings (to try a change without editing the project)",
    )
    parser.add_argument(
        "--pythonpath", help="folder put first on the server processes' path"
    )
    parser.add_argument(
        "--log-dir", help="keep the servers' and clients' logs in this folder"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print only, leave the docs alone"
    )
    add_smoke(parser)
    args = parser.parse_args()
    # Seconds: the least a scenario holds its sockets idle, the wait after
    # opening them, the wait for the last frames after the last signal.
    args.quiet, args.pause, args.settle = 5.0, 2.0, 3.0
    if args.smoke:
        args.watchers, args.signals, args.spread = 20, 4, (40, 4)
        args.spread_signals, args.hold, args.interval = 4, 0.0, 0.2
        args.quiet, args.pause, args.settle = 1.0, 0.5, 1.0
        args.no_write = True

    soft, hard, files_note = raise_open_files()
    needed = args.spread[0] + 200
    print(f"open-files limit {soft} (hard {hard}) {files_note}".rstrip(), flush=True)
    if soft < needed:
        print(
            f"WARNING: {args.spread[0]:,} sockets need about {needed:,} open files "
            f"in the server process; the limit is {soft}",
            flush=True,
        )
    load_start = os.getloadavg()
    results = [
        run_profile(profile, args)
        for profile in (
            ["embedded", "scaled"] if args.profile == "both" else [args.profile]
        )
    ]
    load_end = os.getloadavg()

    import django
    import websockets

    rows, memory_rows, where_rows, problems = [], [], [], []
    for result in results:
        label = f"{result['profile']} ({result['versions']['database']}, " + (
            f"{result['versions']['redis']}, 2 serve + worker)"
            if "redis" in result["versions"]
            else "in-memory layer, 1 serve)"
        )
        for run in result["runs"]:
            opened, base = run["opened"], run["baseline"]
            for one in (run, base):
                if one["errors"] or one["p50_ms"] is None:
                    problems.append(
                        f"{result['profile']}, {one['name']}: {one['errors']} errors"
                    )
            if run["p50_ms"] is not None and base["p50_ms"] is not None:
                for key in ("p50_ms", "p99_ms"):
                    report_figure(
                        f"live {result['profile']}, {run['name']}, {key[:3]}",
                        run[key],
                        base[key],
                        "ms",
                    )
            rows.append(
                f"| {label} | {run['name']} | {opened['opened']:,}/{run['sockets']:,} "
                f"in {opened['seconds']:.1f} s ({opened['per_second']:.0f}/s) "
                f"| {opened['failed_handshakes']:,} | {run['closed']:,} "
                f"| {run['signals']} | {run['received']:,}/{run['pairs']:,} "
                f"| {ms(run['p50_ms'])} | {ms(run['p99_ms'])} | {ms(run['max_ms'])} "
                f"| {ms(base['p50_ms'])} / {ms(base['p99_ms'])} "
                f"| {times(run, base, 'p50_ms')} / {times(run, base, 'p99_ms')} "
                f"| {run['errors']} | {verdict(run)} |"
            )
            where_rows.append(
                f"| {result['profile']} | {run['name']} | {ms(run['post_ms'])} "
                f"| {ms(run['row_ms'])} | {ms(run['first_ms'])} | {ms(run['last_ms'])} "
                f"| {ms(run['worst_post_ms'])} / {ms(run['worst_last_ms'])} "
                f"| {run['serve_us_per_frame']:.0f} | {run['client_us_per_frame']:.0f} "
                f"| {cpu_text(run['cpu'])} | {run['load'][0]:.1f}–{run['load'][1]:.1f} |"
            )
        m = result["memory"]
        memory_rows.append(
            f"| {result['profile']} ({result['servers']} serve) | {m['before']:.0f} "
            f"| {m['with_watchers']:.0f} | {m['after_closing']:.0f} "
            f"| {m['with_spread']:.0f} | {m['per_1000_watchers']:.1f} "
            f"| {m['per_1000_spread']:.1f} |"
        )
    header = [
        "| Profile | Scenario | Sockets open | Failed handshakes | Closed by the "
        "server | Signals | Frames | p50 ms | p99 ms | max ms "
        "| Baseline p50 / p99 ms | × baseline p50 / p99 | Errors | Target |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    where_header = [
        "| Profile | Scenario | POST answered | Event row written | First watcher "
        "| Last watcher | Slowest signal: POST answered / last watcher "
        "| Serve CPU µs per frame | Client CPU µs per frame "
        "| Cores busy: serve / clients / worker / Redis+PostgreSQL / other "
        "| Load average |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    memory_header = [
        f"| Profile | RSS before (MB) | with {args.watchers:,} sockets "
        f"| after closing them | with {args.spread[0]:,} sockets "
        f"| MB per 1,000 ({args.watchers:,}) | MB per 1,000 ({args.spread[0]:,}) |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    print()
    for table in (
        header + rows,
        where_header + where_rows,
        memory_header + memory_rows,
    ):
        print("\n".join(table))
        print()
    for result in results:
        for kind, n in result["log_errors"]:
            print(f"{result['profile']}: {n} × {kind} in the servers' logs")
    if args.no_write:
        finish(problems)
        return
    total, per_report = args.spread
    notes = []
    for result in results:
        for run in result["runs"]:
            opened = run["opened"]
            parts = [
                (run["missing"], "frames missing"),
                (run["closed"], "sockets closed by the server "
                 f"({', '.join(run['closed_reasons'])})"),
                (len(opened["errors"]), "sockets never opened "
                 f"({', '.join(sorted(set(opened['errors']))[:2])})"),
                (run["stray"], "stray frames"),
                (run["duplicates"], "frames twice"),
                (run["failed_posts"], "signals refused "
                 f"({'; '.join(run['post_errors'])})"),
            ]  # fmt: skip
            text = ", ".join(f"{n:,} {what}" for n, what in parts if n)
            if opened["failed_handshakes"]:
                text += (
                    ("; " if text else "")
                    + f"{opened['failed_handshakes']:,} failed handshakes, tried again "
                    f"({', '.join(opened['failure_kinds'])})"
                )
            if text:
                notes.append(f"- {result['profile']}, {run['name']}: {text}.")
        if result["log_errors"]:
            notes.append(
                f"- {result['profile']}, the servers' logs: "
                + ", ".join(f"{n:,} × “{kind}”" for kind, n in result["log_errors"])
                + "."
            )
    write_section(
        HEADING,
        "\n".join(
            [
                HEADING,
                "",
                "A case system's status signal, pushed to every websocket watching "
                "the report. Each profile is a fresh instance (a new SQLite file and "
                "the in-memory channel layer; or a new PostgreSQL database with Redis "
                "as channel layer and cache) with the demo data, a webhook connection "
                "for Malmö and open Malmö reports delivered through it (created in "
                "bulk). Settings: "
                + (f"`{args.settings}`" if args.settings else "the development ones")
                + ". Embedded: one `manage.py serve` (uvicorn). Scaled: two `serve` "
                "processes — the watchers split "
                "evenly across them, the signals posted to them in turn, so half "
                "the pushes cross Redis — and one `manage.py worker`. The watchers "
                "are websocket clients in "
                + (
                    f"{args.clients} client processes (one asyncio event loop each"
                    if args.clients > 1
                    else "one client process (one asyncio event loop"
                )
                + ", websockets' sans-I/O protocol driven from the loop's callbacks, "
                "a frame timed when its bytes are read) on the same machine; no "
                "client pings; at most "
                f"{args.connect_concurrency} handshakes in flight, and a failed "
                "handshake is tried again as the report page does (after 1 s, then "
                f"twice as long each time, {ATTEMPTS} times at most). Each signal is a "
                "signed `report.status` webhook (a status change and a note, a new "
                "webhook-id) POSTed from the benchmark's process on a new HTTP "
                f"connection, one every {args.interval:g} s. Latency: from just "
                "before the POST to the moment a watcher's client has read the frame "
                "with that event's id, over every (signal, watcher) pair. Errors: "
                "frames missing, stray or twice, sockets that never opened (after "
                f"{ATTEMPTS} handshakes) or that the server closed, signals refused. "
                "Baseline, measured in the same run after each profile's scenarios: "
                "the same client process opening the same sockets to a minimal "
                "websocket server, one process serving a bare ASGI application with "
                "`serve`'s uvicorn configuration, where a POST hands the frame (the "
                "text of a real frame of the run, its event id, report and time "
                "replaced) straight to every socket watching that report: no Django, "
                "no signature, no database, no channel layer; the same signals at the "
                "same interval. × baseline: the figure's p50 and p99 over the "
                "baseline's. "
                f"Target: p99 at most {TARGET_P99_MS:.0f} ms, and no errors.",
                "",
                f"1. {args.watchers:,} watchers of one report, {args.signals} signals "
                "to it.",
                f"2. {total:,} watchers spread over {per_report:,} reports "
                f"({total // per_report} each), all open at once and held "
                f"{args.hold:g} s"
                + (" (past the servers' 20 s websocket ping)" if args.hold > 20 else "")
                + ", then "
                f"{min(args.spread_signals, per_report)} signals to as many "
                "different reports (a fixed random sample).",
                "3. Resident memory (VmRSS) of the serve process(es), summed: after a "
                "warm-up signal and before any measured socket, with the sockets of "
                "1., after closing them, with those of 2.",
                "",
                f"- CPU: {cpu_description()}, shared by the servers, the clients, "
                "the benchmark and the stores; 1-minute load average "
                f"{load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end "
                "(other work was running on the machine)",
                f"- Python {sys.version.split()[0]}, Django {django.get_version()}, "
                f"websockets {websockets.__version__} (clients), "
                + ", ".join(
                    dict.fromkeys(v for r in results for v in r["versions"].values())
                ),
                f"- Open-files limit {soft:,} for the servers and clients"
                + (f" ({files_note})" if files_note else ""),
                f"- Date: {today()}",
                "",
                "```sh",
                " ".join(["python", "bench/live.py", *shown_arguments()]),
                "```",
                "",
                *header,
                *rows,
                "",
                "Where the time goes (medians over the signals, ms from just before "
                "the POST; the event row's time is its `created_at`, a wall clock):",
                "",
                *where_header,
                *where_rows,
                "",
                *memory_header,
                *memory_rows,
                "",
                *notes,
                "- Cores busy: CPU time over the signal phase's wall time (1.00 is "
                "one core) of the serve processes, the client processes, the worker, "
                "the Redis and PostgreSQL servers (all of theirs on the machine), and "
                "everything else. Serve and client CPU per frame: their CPU time in "
                "that phase over the frames delivered.",
                "- MB per 1,000: the RSS growth over the figure before, per 1,000 "
                "sockets.",
            ]
        )
        + "\n",
    )
    finish(problems)


if __name__ == "__main__":
    main()
