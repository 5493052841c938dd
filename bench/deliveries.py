"""Delivery outbox throughput: confirmed reports to ten Open311 case systems.

One command: ``python bench/deliveries.py [--profile embedded|scaled|both]
[--count N] [--threads default,16] [--smoke]``.

For each profile a fresh instance (devkit.instance.profile_env_for: a new SQLite
file, or a new PostgreSQL database on the server of DATABASE_URL, dropped
afterwards, with Redis as channel layer and cache) with the demo data, ten bodies
with an Open311 connection each (one category mapped per connection, Malmö's
route for it pointing there) and N confirmed reports in Malmö spread evenly over
them, with one delivery each. Ten real GeoReport v2 servers (devkit.servers) run
in this process on loopback, one per connection.

Each run queues the N deliveries afresh (not yet due), starts one
``manage.py worker --no-tasks`` process, makes them due at once and polls the
database every 0.2 s until every delivery to a healthy case system has been
delivered; the time is from making them due to the last ``delivered_at``. Then
every healthy server must hold exactly its share of cases under distinct
Idempotency-Keys, the keys of its deliveries. Three scenarios: all ten healthy;
one endpoint refusing connections (a closed port); one black hole (accepts the
connection, never answers; that connection's timeout is 2 s). With a dead
endpoint the figure is the throughput to the other nine, compared with the
all-healthy run of the same thread count. Target: at least 90 %.

Baseline, measured in the same run before each thread count's scenarios: a raw
loop of POSTs of the same requests.json forms (each delivery's form as the
Open311 connector builds it, with its Idempotency-Key) to ten fresh GeoReport v2
servers of the same kind in this process, sent with the same HTTP client code
(``casehub.connectors.http.request``, the answer checked and parsed as a
delivery does) from as many threads as the worker has, in a process of its own
with the worker's settings, but no database: no claim, no lease, no attempt
recorded. The ratio is the all-healthy deliveries/s over the baseline's POSTs/s.

``--smoke``: 100 reports, the worker's default threads, all healthy and a black
hole (a refused connection fails faster down the same path); nothing written.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
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
    process_cpu,
    ratio,
    result,
    today,
    write_section,
)
from devkit.instance import (  # noqa: E402
    free_port,
    instance_setup,
    manage,
    profile_env_for,
    start,
    stop,
)
from devkit.servers import Open311Server  # noqa: E402

HEADING = "## Delivery outbox"
TARGET = 0.90  # of all ten healthy, with one endpoint dead
RATE_TARGET = 200  # deliveries/s per worker process, all ten healthy
CONNECTIONS = 10
SMOKE_COUNT = 100
BLACK_HOLE_TIMEOUT = 2.0
POLL = 0.2
SCENARIOS = ("healthy", "refused", "black hole")
SCENARIO_NAMES = {
    "healthy": "all 10 healthy",
    "refused": "1 of 10 refuses connections",
    "black hole": "1 of 10 a black hole (2 s timeout)",
}

# Run in the instance by ``manage.py shell -c``: ten bodies with an Open311
# connection each and the reports, in bulk.
SETUP = """
import json, random
from datetime import timedelta
from django.conf import settings
from django.utils import timezone
from municipalities.choices import BodyKind, ConnectionKind
from municipalities.models import (
    Body, Category, Connection, ConnectionService, Municipality, Route)
from reports.models import Report

COUNT, CONNECTIONS = {count}, {connections}
malmo = Municipality.objects.get(code="1280")
categories = list(
    Category.objects.filter(body=None).exclude(routes__municipality=None)
    .order_by("sort_order")[:CONNECTIONS])
made = []
for i, category in enumerate(categories):
    body = Body.objects.create(
        name=f"Case system {{i + 1}}", slug=f"bench-case-system-{{i + 1}}",
        kind=BodyKind.MUNICIPAL)
    body.municipalities.add(malmo)
    connection = Connection.objects.create(
        body=body, name=f"Open311 {{i + 1}}", kind=ConnectionKind.OPEN311,
        endpoint="http://127.0.0.1:9/open311/v2/")
    ConnectionService.objects.create(
        connection=connection, category=category, service_code="001",
        service_name="Gatubelysning")
    Route.objects.update_or_create(
        municipality=malmo, category=category,
        defaults={{"body": body, "connection": connection}})
    made.append((body, category, connection))
rnd = random.Random(1)
now = timezone.now()
reports = []
for n in range(COUNT):
    body, category, _ = made[n % len(made)]
    reports.append(Report(
        lat=55.6050 + rnd.uniform(-0.02, 0.02), lon=13.0038 + rnd.uniform(-0.03, 0.03),
        municipality=malmo, category=category, body=body,
        title=f"{{category.name}}: fel nummer {{n}}",
        description="Felet syns tydligt från gångbanan och har funnits i flera dagar. " * 2,
        name="Bench Marksson", email=f"bench{{n}}@example.org", status="open",
        confirmed_at=now - timedelta(seconds=COUNT - n)))
Report.objects.bulk_create(reports, batch_size=1000)
print(json.dumps({{
    "connections": [c.pk for _, _, c in made],
    "threads": settings.KNUTPUNKT_DELIVERY["threads"],
    "poll": settings.KNUTPUNKT_DELIVERY["poll_seconds"],
}}))
"""

# Run before each measurement: the connections' endpoints and a clean outbox,
# every report queued once more with a new key, due tomorrow (made due by the
# benchmark once the worker is up).
RESET = """
import json
from datetime import timedelta
from django.db import connection as db, transaction
from django.utils import timezone
from municipalities.models import Connection
from casehub.models import Delivery, DeliveryAttempt
from reports.models import Report, ReportEvent

PLAN = json.loads({plan!r})
with transaction.atomic():
    ReportEvent.objects.all().delete()
    DeliveryAttempt.objects.all().delete()
    Delivery.objects.all().delete()
    by_body = {{}}
    for pk, spec in PLAN.items():
        Connection.objects.filter(pk=pk).update(
            endpoint=spec["endpoint"], timeout_seconds=spec["timeout"],
            is_active=True, consecutive_failures=0, circuit_open_until=None,
            last_success_at=None, last_failure_at=None, last_error="")
        by_body[Connection.objects.get(pk=pk).body_id] = int(pk)
    now = timezone.now()
    Delivery.objects.bulk_create(
        [Delivery(report_id=report, connection_id=by_body[body],
                  next_attempt_at=now + timedelta(days=1), queued_at=now)
         for report, body in Report.objects.filter(body_id__in=by_body)
         .order_by("pk").values_list("pk", "body_id")],
        batch_size=1000)
if db.vendor == "postgresql":
    with db.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE casehub_delivery, casehub_deliveryattempt, "
            "reports_reportevent, municipalities_connection")
print(Delivery.objects.count())
"""


# Run in the instance after a RESET: every delivery's requests.json form, as the
# Open311 connector builds it, for the baseline's raw loop.
FORMS = """
import json
from urllib.parse import urlencode
from casehub.connectors import connector_for
from casehub.models import Delivery
from casehub.outbox import case_request

plan = []
for delivery in Delivery.objects.select_related(
    "connection__body", "report__category", "report__municipality",
    "report__filed_on_site",
).order_by("pk"):
    form = connector_for(delivery.connection).form(case_request(delivery))
    plan.append([delivery.connection_id, urlencode(form), str(delivery.key)])
with open({path!r}, "w") as handle:
    json.dump(plan, handle)
print(len(plan))
"""


def raw_loop() -> None:
    """The baseline's process: POST every form of the plan on stdin (a JSON
    object: threads, and [url, body, key] items) with the product's HTTP client,
    as a delivery sends it, from that many threads; no database. Prints the
    time from the first POST to the last answer, and the failures."""
    import django

    django.setup()
    from concurrent.futures import ThreadPoolExecutor

    from casehub.connectors import http

    plan = json.loads(sys.stdin.readline())

    def post(item) -> str | None:
        url, body, key = item
        try:
            response = http.request(
                "POST",
                url,
                timeout=10.0,
                body=body.encode(),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                    "Idempotency-Key": key,
                },
            )
            http.raise_for_status(response, "POST requests.json")
            data = response.json("POST requests.json")
        except Exception as exc:  # noqa: BLE001 (counted, shown)
            return f"{type(exc).__name__}: {exc}"[:200]
        entry = data[0] if isinstance(data, list) and data else data
        if not isinstance(entry, dict) or not entry.get("service_request_id"):
            return f"no service request in {data!r}"[:200]
        return None

    with ThreadPoolExecutor(plan["threads"]) as pool:
        started = time.perf_counter()
        failures = [f for f in pool.map(post, plan["items"]) if f]
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "failures": failures}), flush=True)


def baseline(env, forms: list, connections: list, threads: int) -> dict:
    """The raw loop against ten fresh case systems: POSTs/s and what went wrong."""
    problems = []
    with ExitStack() as stack:
        servers = {pk: stack.enter_context(Open311Server()) for pk in connections}
        items = [
            [servers[pk].url + "requests.json", body, key] for pk, body, key in forms
        ]
        done = subprocess.run(
            [sys.executable, __file__, "--raw-loop"],
            input=json.dumps({"threads": threads, "items": items}) + "\n",
            env=worker_env(env),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode:
            raise RuntimeError(f"the raw loop failed:\n{done.stderr[-3000:]}")
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        expected: dict[int, int] = {}
        for pk, _body, _key in forms:
            expected[pk] = expected.get(pk, 0) + 1
        for pk, server in servers.items():
            if len(server.cases) != expected.get(pk, 0):
                problems.append(
                    f"baseline: connection {pk} has {len(server.cases)} cases, "
                    f"expected {expected.get(pk, 0)}"
                )
    problems += [f"baseline: {f}" for f in answer["failures"][:3]]
    return {
        "threads": threads,
        "posts": len(forms),
        "seconds": answer["seconds"],
        "per_second": len(forms) / answer["seconds"] if answer["seconds"] else 0.0,
        "failures": len(answer["failures"]),
        "problems": problems,
    }


class BlackHole:
    """Accepts TCP connections on loopback and never answers on them."""

    def __init__(self):
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._socket.accept()
            except OSError:
                return
            self.accepted += 1
            self._held.append(conn)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._socket.close()
        for conn in self._held:
            conn.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}/open311/v2/"


class Database:
    """The instance's database, read and written directly by this process."""

    def __init__(self, env: dict):
        url = env.get("DATABASE_URL")
        if url:
            import psycopg

            self.vendor = "postgresql"
            self._conn = psycopg.connect(url, autocommit=True)
        else:
            self.vendor = "sqlite"
            path = Path(env["KNUTPUNKT_VAR_DIR"]) / "knutpunkt.sqlite3"
            self._conn = sqlite3.connect(path, timeout=20, isolation_level=None)

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.vendor == "sqlite":
            sql = sql.replace("%s", "?")
        cursor = self._conn.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []

    def timestamp(self, value) -> float:
        """Seconds since the epoch of a stored aware datetime (SQLite: UTC text)."""
        if isinstance(value, str):
            value = datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value.timestamp()

    def version(self) -> str:
        if self.vendor == "sqlite":
            return f"SQLite {sqlite3.sqlite_version}"
        return "PostgreSQL " + self.rows("SHOW server_version")[0][0].split()[0]

    def close(self) -> None:
        self._conn.close()


class CpuMeter:
    """Where the cores went during a run: the worker, this process (the case
    systems), the PostgreSQL server, and everything else on the machine."""

    def __init__(self, worker_pid: int):
        self.pid = worker_pid
        self.start = self._read()

    def _read(self) -> dict:
        return {
            "wall": time.monotonic(),
            "worker": process_cpu(self.pid),
            "bench": time.process_time(),
            "database": named_cpu(("postgres",)),
            "machine": machine_cpu(),
        }

    def stop(self) -> dict:
        end, start = self._read(), self.start
        wall = end["wall"] - start["wall"]
        used = {
            name: end[name] - start[name] for name in ("worker", "bench", "machine")
        }
        used["database"] = sum(
            cpu - start["database"].get(pid, 0.0)
            for pid, cpu in end["database"].items()
        )
        used["other"] = max(
            0.0, used["machine"] - used["worker"] - used["bench"] - used["database"]
        )
        return {"seconds": used, "cores": {k: v / wall for k, v in used.items()}}


def worker_env(env: dict) -> dict:
    """The worker as deployed: production settings (DEBUG off), but allowed to
    reach case systems on loopback over plain HTTP."""
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "KNUTPUNKT_CONNECTIONS_ALLOW_PRIVATE": "1",
        "KNUTPUNKT_CONNECTIONS_REQUIRE_HTTPS": "0",
    }


def shell(env: dict, script: str, tries: int = 2) -> str:
    """Run a script in the instance; the last line it printed."""
    for attempt in range(tries):
        try:
            done = manage(env, "shell", "-c", script)
        except subprocess.CalledProcessError as exc:
            if attempt + 1 == tries:
                raise RuntimeError(
                    f"manage.py shell failed:\n{exc.stderr[-3000:]}"
                ) from None
            print(f"manage.py shell failed, once more:\n{exc.stderr[-1000:]}")
            time.sleep(5)
        else:
            return done.stdout.strip().splitlines()[-1]
    raise AssertionError("unreachable")


def measure(env, db: Database, connections, threads, scenario, log_dir, timeout):
    """One run: queue, start a worker, make everything due, wait, check."""
    dead = connections[-1] if scenario != "healthy" else None
    with ExitStack() as stack:
        servers = {
            pk: stack.enter_context(Open311Server()) for pk in connections if pk != dead
        }
        plan = {
            str(pk): {"endpoint": s.url, "timeout": 10.0} for pk, s in servers.items()
        }
        hole = None
        if scenario == "refused":
            plan[str(dead)] = {
                "endpoint": f"http://127.0.0.1:{free_port()}/open311/v2/",
                "timeout": BLACK_HOLE_TIMEOUT,
            }
        elif scenario == "black hole":
            hole = stack.enter_context(BlackHole())
            plan[str(dead)] = {"endpoint": hole.url, "timeout": BLACK_HOLE_TIMEOUT}
        queued = int(shell(env, RESET.format(plan=json.dumps(plan))))
        healthy = list(servers)
        expected = dict(
            db.rows(
                "SELECT connection_id, COUNT(*) FROM casehub_delivery "
                "GROUP BY connection_id"
            )
        )
        target = sum(expected[pk] for pk in healthy)

        log_path = (
            log_dir / f"worker-{threads or 'default'}-{scenario.replace(' ', '-')}.log"
        )
        extra = ["--threads", str(threads)] if threads else []
        with open(log_path, "w") as log:
            worker = start(worker_env(env), "worker", "--no-tasks", *extra, output=log)
        try:
            deadline = time.monotonic() + 120
            while "Worker:" not in log_path.read_text():
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the worker did not start:\n{log_path.read_text()}"
                    )
                time.sleep(0.1)
            time.sleep(1.0)  # past its first, empty claim: now polling
            load_before = os.getloadavg()[0]
            meter = CpuMeter(worker.pid)
            db.rows("UPDATE casehub_delivery SET next_attempt_at = queued_at")
            started = time.time()
            done = False
            give_up = time.monotonic() + timeout
            while time.monotonic() < give_up:
                time.sleep(POLL)
                if worker.poll() is not None:
                    raise RuntimeError(
                        f"the worker died:\n{log_path.read_text()[-3000:]}"
                    )
                counts = dict(
                    db.rows(
                        "SELECT connection_id, COUNT(*) FROM casehub_delivery "
                        "WHERE state = 'delivered' GROUP BY connection_id"
                    )
                )
                if sum(counts.get(pk, 0) for pk in healthy) >= target:
                    done = True
                    break
            cpu = meter.stop()
            if db.vendor == "sqlite":
                cpu["cores"]["database"] = None  # in the worker's process
            load_after = os.getloadavg()[0]
        finally:
            stop([worker])
        finished = {
            pk: (n, last)
            for pk, n, last in db.rows(
                "SELECT connection_id, COUNT(*), MAX(delivered_at) "
                "FROM casehub_delivery WHERE state = 'delivered' GROUP BY connection_id"
            )
            if pk in servers
        }
        delivered = sum(n for n, _ in finished.values())
        last = max((db.timestamp(t) for _, t in finished.values()), default=None)
        elapsed = (last - started) if last is not None else float("nan")

        problems = []
        keys: dict[int, set[str]] = {pk: set() for pk in healthy}
        for pk, key in db.rows("SELECT connection_id, key FROM casehub_delivery"):
            if pk in keys:
                keys[pk].add(str(uuid.UUID(str(key))))
        duplicates = 0
        for pk, server in servers.items():
            sent = [r["key"] for r in server.requests]
            duplicates += len(sent) - len(set(sent))
            if len(server.cases) != expected[pk]:
                problems.append(
                    f"connection {pk}: {len(server.cases)} cases, expected {expected[pk]}"
                )
            if {c["key"] for c in server.cases} != keys[pk]:
                problems.append(
                    f"connection {pk}: case keys differ from its deliveries'"
                )
        dead_attempts = None
        dead_state = ""
        if dead is not None:
            dead_attempts = db.rows(
                "SELECT COALESCE(SUM(attempts), 0) FROM casehub_delivery "
                "WHERE connection_id = %s",
                (dead,),
            )[0][0]
            failures, circuit = db.rows(
                "SELECT consecutive_failures, circuit_open_until "
                "FROM municipalities_connection WHERE id = %s",
                (dead,),
            )[0]
            dead_state = f"{failures} failures in a row, circuit {'open' if circuit else 'closed'}"
        log_text = log_path.read_text()
        result = {
            "threads": threads,
            "scenario": scenario,
            "queued": queued,
            "deliveries": delivered,
            "target": target,
            "complete": done and delivered == target,
            "seconds": elapsed,
            "per_second": delivered / elapsed
            if elapsed == elapsed and elapsed > 0
            else 0.0,
            "duplicates": duplicates,
            "problems": problems,
            "dead_attempts": dead_attempts,
            "dead_connections": hole.accepted if hole else None,
            "dead_state": dead_state,
            "cpu": cpu["cores"],
            "worker_ms": 1000 * cpu["seconds"]["worker"] / max(1, delivered),
            "load": (load_before, load_after),
            "log_errors": sum(" ERROR " in line for line in log_text.splitlines()),
            "log_warnings": sum(" WARNING " in line for line in log_text.splitlines()),
        }
    return result


def run_profile(profile: str, args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        var_dir = Path(tmp) / "var"
        with profile_env_for(
            profile,
            var_dir,
            database_url=args.database_url,
            redis_url=args.redis_url,
        ) as env:
            clock = time.monotonic()
            instance_setup(env, free_port())
            setup = json.loads(
                shell(env, SETUP.format(count=args.count, connections=CONNECTIONS))
            )
            idle = {
                str(pk): {"endpoint": "http://127.0.0.1:9/open311/v2/", "timeout": 10}
                for pk in setup["connections"]
            }
            forms_path = Path(tmp) / "forms.json"
            shell(
                env,
                RESET.format(plan=json.dumps(idle))
                + FORMS.format(path=str(forms_path)),
            )
            forms = json.loads(forms_path.read_text())
            print(
                f"{profile}: instance ready in {time.monotonic() - clock:.0f} s",
                flush=True,
            )
            db = Database(env)
            versions = {"database": db.version()}
            if profile == "scaled":
                import redis

                info = redis.Redis.from_url(args.redis_url).info("server")
                versions["redis"] = f"Redis {info['redis_version']}"
            runs, baselines = [], {}
            try:
                for threads in args.threads:
                    base = baseline(
                        env, forms, setup["connections"], threads or setup["threads"]
                    )
                    baselines[threads] = base
                    print(
                        f"{profile}: baseline, {base['threads']} threads: "
                        f"{base['posts']} raw POSTs in {base['seconds']:.1f} s = "
                        f"{base['per_second']:.0f}/s, {base['failures']} failures",
                        flush=True,
                    )
                    for scenario in args.scenarios:
                        run = measure(
                            env, db, setup["connections"], threads, scenario,
                            Path(tmp), args.timeout,
                        )  # fmt: skip
                        run["threads_label"] = (
                            f"{setup['threads']} (default)"
                            if threads is None
                            else str(threads)
                        )
                        runs.append(run)
                        print(f"{profile}: {summary(run)}", flush=True)
            finally:
                db.close()
    healthy = {
        r["threads"]: r["per_second"] for r in runs if r["scenario"] == "healthy"
    }
    for run in runs:
        base = healthy.get(run["threads"])
        run["ratio"] = run["per_second"] / base if base else None
        run["baseline"] = baselines[run["threads"]]
    return {
        "profile": profile,
        "versions": versions,
        "poll": setup["poll"],
        "runs": runs,
        "baselines": list(baselines.values()),
    }


def summary(run: dict) -> str:
    text = (
        f"threads {run['threads'] or 'default'}, {run['scenario']}: "
        f"{run['deliveries']}/{run['target']} in {run['seconds']:.1f} s = "
        f"{run['per_second']:.0f}/s, worker {run['worker_ms']:.1f} ms CPU per "
        f"delivery; cores busy: {cpu_text(run)}; load {run['load'][0]:.1f}"
        f"-{run['load'][1]:.1f}"
    )
    if run["dead_attempts"] is not None:
        text += (
            f", dead endpoint: {run['dead_attempts']} attempts ({run['dead_state']})"
        )
        if run["dead_connections"] is not None:
            text += f", {run['dead_connections']} TCP connections"
    if run["log_errors"]:
        text += f", {run['log_errors']} errors in the worker's log"
    if run["duplicates"] or run["problems"]:
        text += f", DUPLICATES {run['duplicates']}, {run['problems']}"
    if not run["complete"]:
        text += ", INCOMPLETE"
    return text


def cpu_text(run: dict) -> str:
    cores = run["cpu"]
    return " / ".join(
        "—" if cores[name] is None else f"{cores[name]:.2f}"
        for name in ("worker", "bench", "database", "other")
    )


def parse_threads(value: str) -> list[int | None]:
    return [None if v.strip() == "default" else int(v) for v in value.split(",")]


def main() -> None:
    if "--raw-loop" in sys.argv[1:]:
        raw_loop()
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profile", choices=["embedded", "scaled", "both"], default="both"
    )
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument(
        "--threads",
        type=parse_threads,
        default=[None, 16],
        help="worker --threads values to run, comma-separated; 'default' for none",
    )
    parser.add_argument(
        "--timeout", type=float, default=900, help="seconds a run may take at most"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    )
    add_smoke(parser)
    args = parser.parse_args()
    args.scenarios = SCENARIOS
    if args.smoke:
        args.count, args.threads, args.timeout = SMOKE_COUNT, [None], 300
        args.scenarios = ("healthy", "black hole")

    results = [
        run_profile(profile, args)
        for profile in (
            ["embedded", "scaled"] if args.profile == "both" else [args.profile]
        )
    ]

    import django

    rows, problems = [], []
    for found in results:
        store = found["versions"]["database"]
        if "redis" in found["versions"]:
            store += f" + {found['versions']['redis']}"
        for base in found["baselines"]:
            problems += [f"{found['profile']}: {p}" for p in base["problems"]]
        for run in found["runs"]:
            label = (
                f"{found['profile']}, {run['threads_label']} threads, "
                f"{SCENARIO_NAMES[run['scenario']]}"
            )
            if not run["complete"] or run["duplicates"] or run["problems"]:
                problems.append(
                    f"{label}: {run['deliveries']}/{run['target']} delivered, "
                    f"{run['duplicates']} duplicates, {run['problems'][:3]}"
                )
            base = run["baseline"]["per_second"]
            result(f"deliveries {label}", run["per_second"], base, "per s")
            vs_healthy = "—" if run["scenario"] == "healthy" else f"{run['ratio']:.0%}"
            if run["scenario"] == "healthy":
                met = run["per_second"] >= RATE_TARGET
            else:
                met = bool(run["ratio"]) and run["ratio"] >= TARGET
                met = met and run["per_second"] >= TARGET * RATE_TARGET
            verdict = "pass" if met else "fail"
            if not run["complete"] or run["duplicates"] or run["problems"]:
                verdict = "fail (incomplete or duplicates)"
            dead = "—"
            if run["dead_attempts"] is not None:
                dead = str(run["dead_attempts"])
            rows.append(
                f"| {found['profile']} ({store}) | {run['threads_label']} "
                f"| {SCENARIO_NAMES[run['scenario']]} | {run['deliveries']:,} "
                f"| {run['seconds']:.1f} | {run['per_second']:.0f} "
                f"| {base:.0f} | {ratio(run['per_second'], base):.2f} "
                f"| {vs_healthy} | {dead} "
                f"| {run['duplicates']} | {run['worker_ms']:.1f} | {cpu_text(run)} "
                f"| {run['load'][0]:.1f}–{run['load'][1]:.1f} | {verdict} |"
            )
    header = [
        "| Profile | Worker threads | Case systems | Delivered | Seconds "
        "| Deliveries/s | Raw POSTs/s (baseline) | × baseline | vs all healthy "
        "| Attempts on the dead one | Duplicates "
        "| Worker CPU ms per delivery | Cores busy: worker / case systems / "
        "PostgreSQL / other | Load average | Target |",
        "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|---|",
    ]
    print()
    print("\n".join(header + rows))
    poll = results[0]["poll"]
    text = (
        "\n".join(
            [
                HEADING,
                "",
                f"{args.count:,} confirmed reports in Malmö, one delivery each, spread "
                f"evenly over {CONNECTIONS} Open311 connections, each to its own "
                "GeoReport v2 server on loopback (in the benchmark's process, one "
                "thread per request); one `manage.py worker --no-tasks` process "
                "(production settings) sends them. The deliveries are queued not yet "
                "due, the worker is started, then all are made due at once; the time "
                "runs from then to the last `delivered_at` of the healthy case systems "
                f"(it includes up to one poll interval, {poll:g} s, of the idle "
                "worker). Each healthy server must end with exactly its share of "
                "cases under distinct Idempotency-Keys, those of its deliveries. "
                "With one endpoint dead, refusing connections (a closed port) or a "
                "black hole (accepts, never answers; timeout 2 s), the figure is the "
                "throughput to the other nine, compared with all ten healthy at the "
                "same thread count. Baseline, measured in the same run before each "
                "thread count's scenarios: a raw loop of POSTs of the same "
                "requests.json forms (as the connector builds them, with their "
                "Idempotency-Keys) to ten fresh case systems of the same kind, sent "
                "with the same HTTP client code from as many threads as the worker "
                "has, in a process of its own with the worker's settings but no "
                "database; × baseline is deliveries/s over the baseline's POSTs/s. "
                f"Target: at least {RATE_TARGET} deliveries/s with all ten healthy, "
                f"and with one dead at least {TARGET:.0%} of that and of all ten "
                "healthy at the same thread count. Each run starts "
                "from a clean outbox on the same instance (a fresh SQLite file, or a "
                "fresh PostgreSQL database with Redis as channel layer and cache).",
                "",
                f"- CPU: {cpu_description()} (shared by the worker, the case systems "
                "and the database server)",
                f"- Python {sys.version.split()[0]}, Django {django.get_version()}, "
                + ", ".join(
                    dict.fromkeys(v for r in results for v in r["versions"].values())
                ),
                f"- Date: {today()}",
                "",
                "```sh",
                " ".join(["python", "bench/deliveries.py", *sys.argv[1:]]),
                "```",
                "",
                *header,
                *rows,
                "",
                "- Attempts on the dead one: claims of its deliveries during the run "
                "(each claim is one attempt); the circuit opens after 5 failures in a "
                "row. Cores busy: CPU time over the run's wall time (1.00 is one "
                "core) of the worker process, of the benchmark's process (the ten "
                "case systems), of the PostgreSQL server processes, and of "
                "everything else on the machine (other work sharing it); load "
                "average: the 1-minute load at the start and at the end of the run.",
            ]
        )
        + "\n"
    )
    if not args.smoke:
        write_section(HEADING, text)
    finish(problems)


if __name__ == "__main__":
    main()
