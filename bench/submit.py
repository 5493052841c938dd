"""Report submission throughput: POST /rapportera/ without a photo, end to end.

One command: ``python bench/submit.py [--reports N] [--db sqlite|postgres|both]``.
Each database runs in its own process on a fresh database (a new SQLite file in
WAL mode; a new PostgreSQL database, dropped afterwards) with the demo data loaded.
Requests go through Django's test client, so the figure is server time: form
validation, the kommun lookup, routing, the transaction and the confirmation task
queued in the database. One client, one after the other, on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import cpu_description, percentile, today, write_section  # noqa: E402

HEADING = "## submit: reports per second"
TARGET = 150
# Town centres of kommuner that take reports in the demo (Malmö, Lund, Stockholm,
# Göteborg, Uppsala); points are scattered within about 1 km of them.
CENTRES = [(55.6059, 13.0007), (55.7047, 13.1910), (59.3326, 18.0649),
           (57.7089, 11.9746), (59.8586, 17.6389)]  # fmt: skip


def run_profile(db: str, reports: int) -> dict:
    """Set up a fresh database of the kind, submit, and measure (in this process)."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from reports.models import Report

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.DEBUG = False  # no query log in memory
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "report_submit": (10**9, 3600),
    }
    for i in range(50):
        _submit(Client(HTTP_HOST="localhost"), random.Random(0), i)
    rows = {}
    for clients in (1, os.cpu_count() or 1):
        rows[clients] = _measure(clients, reports, start_at=10_000 * clients)
    assert_count = Report.objects.count()
    return {"db": db, "reports": reports, "stored": assert_count, "rows": rows}


def _submit(client, rnd: random.Random, i: int) -> float:
    lat, lon = rnd.choice(CENTRES)
    data = {
        "lat": f"{lat + rnd.uniform(-0.009, 0.009):.6f}",
        "lon": f"{lon + rnd.uniform(-0.015, 0.015):.6f}",
        "category": "gatubelysning",
        "title": f"Släckt gatlykta {i}",
        "description": "Lyktan är släckt sedan i tisdags. " * 4,
        "name": "Bench Marksson",
        "email": f"bench{i}@example.org",
    }
    start = time.perf_counter()
    response = client.post("/rapportera/", data)
    elapsed = time.perf_counter() - start
    if response.status_code != 302:
        raise RuntimeError(f"submission {i} failed: {response.status_code}")
    return elapsed


def _client_loop(first: int, count: int, queue) -> None:
    from django.db import connections
    from django.test import Client

    connections.close_all()
    client = Client(HTTP_HOST="localhost")
    rnd = random.Random(first)
    queue.put([_submit(client, rnd, first + i) for i in range(count)])


def _measure(clients: int, reports: int, *, start_at: int) -> dict:
    """``reports`` submissions from ``clients`` processes at once, one core each."""
    import multiprocessing

    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    share = reports // clients
    workers = [
        context.Process(target=_client_loop, args=(start_at + n * share, share, queue))
        for n in range(clients)
    ]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    times = [t for _ in workers for t in queue.get()]
    for worker in workers:
        worker.join()
    total = time.perf_counter() - start
    return {
        "per_second": len(times) / total,
        "p50_ms": percentile(times, 0.5) * 1000,
        "p95_ms": percentile(times, 0.95) * 1000,
        "max_ms": max(times) * 1000,
    }


def child_env(db: str, var_dir: str) -> tuple[dict, str | None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(DJANGO_SETTINGS_MODULE="config.settings.dev", KNUTPUNKT_VAR_DIR=var_dir)
    if db == "sqlite":
        return env, None
    import psycopg

    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x")
    name = f"knutpunkt_bench_submit_{uuid.uuid4().hex[:6]}"
    admin = urlunsplit(urlsplit(server)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    return env, name


def drop(name: str) -> None:
    import psycopg

    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x")
    admin = urlunsplit(urlsplit(server)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_profile(args.child, args.reports)))
        return
    rows = []
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        with tempfile.TemporaryDirectory() as var_dir:
            env, pg_name = child_env(db, var_dir)
            try:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", db, "--reports", str(args.reports)],
                    env=env, capture_output=True, text=True, check=True,
                ).stdout  # fmt: skip
            finally:
                if pg_name:
                    drop(pg_name)
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(rows[-1])
    import django

    table = [
        f"| {r['db']} | {clients} | {r['reports']:,} | {m['per_second']:.0f} "
        f"| {m['p50_ms']:.1f} | {m['p95_ms']:.1f} | {m['max_ms']:.1f} "
        f"| {'pass' if m['per_second'] >= TARGET else 'fail'} |"
        for r in rows
        for clients, m in r["rows"].items()
    ]
    write_section(
        HEADING,
        "\n".join(
            [
                HEADING,
                "",
                "`POST /rapportera/` without a photo by an anonymous citizen, through "
                "Django's test client (server time: validation, kommun lookup, routing, "
                "one transaction, the confirmation e-mail task queued in the database). "
                "After 50 warm-up requests: first one client process submitting one "
                "report after the other (one core), then one client process per core "
                "at once against the same database (each process is its own server, as "
                f"in the scaled profile). Target: at least {TARGET} reports/s.",
                "",
                f"- CPU: {cpu_description()}",
                f"- Python {sys.version.split()[0]}, Django {django.get_version()}",
                f"- Date: {today()}",
                "",
                "```sh",
                " ".join(["python", "bench/submit.py", *sys.argv[1:]]),
                "```",
                "",
                "| Database | Client processes | Reports | Reports/s | p50 ms | p95 ms "
                "| max ms | Target |",
                "|---|--:|--:|--:|--:|--:|--:|---|",
                *table,
            ]
        )
        + "\n",
    )


if __name__ == "__main__":
    main()
