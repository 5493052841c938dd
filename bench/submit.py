"""Report submission throughput: POST /rapportera/ without a photo, end to end.

One command: ``python bench/submit.py [--reports N] [--db sqlite|postgres|both]
[--smoke]``. Each database runs in its own process on a throwaway instance with
the demo data (``devkit.instance.profile_env_for``: a new SQLite file in WAL
mode; a new PostgreSQL database, dropped afterwards; the cache in process for
both). Requests go through Django's test client, so the figure is server time:
form validation, the kommun lookup, routing, the transaction and the
confirmation task queued in the database. First one client, one after the
other, on one core; then one client process per core at once.

Baseline: the minimal view through the same stack, measured in the same run
just before each row with the same client processes: the same form POSTed to a
view that reads it (``request.POST``) and answers a redirect, as the real view
does, with no validation and no database. The ratio is reports/s over the
baseline's requests/s (below 1: slower than the bare stack).

``--smoke``: 60 reports per row after 10 warm-up ones; nothing written.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    add_smoke,
    cpu_description,
    database_url,
    finish,
    load_average,
    load_note,
    percentile,
    ratio,
    result,
    today,
    write_section,
)

HEADING = "## submit: reports per second"
TARGET = 150
WARMUP = 50
SMOKE_REPORTS, SMOKE_WARMUP = 60, 10
BASELINE_URL = "/bench/ok"
# The URLconf of the measuring process: the project's, plus the baseline view.
urlpatterns: list = []
# Town centres of kommuner that take reports in the demo (Malmö, Lund, Stockholm,
# Göteborg, Uppsala); points are scattered within about 1 km of them.
CENTRES = [(55.6059, 13.0007), (55.7047, 13.1910), (59.3326, 18.0649),
           (57.7089, 11.9746), (59.8586, 17.6389)]  # fmt: skip


def run_profile(db: str, reports: int, warmup: int) -> dict:
    """Submit and measure in this process, on the instance the parent made."""
    import django

    django.setup()
    from django.conf import settings
    from django.http import HttpResponseRedirect
    from django.test import Client
    from django.urls import path

    from config import urls
    from reports.models import Report

    def ok(request):
        request.POST  # noqa: B018 (the form is parsed, as the real view does)
        return HttpResponseRedirect("/")

    urlpatterns[:] = [path(BASELINE_URL.lstrip("/"), ok), *urls.urlpatterns]
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False  # no query log in memory
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "report_submit": (10**9, 3600),
    }
    before = Report.objects.count()
    for i in range(warmup):
        _submit(Client(HTTP_HOST="localhost"), random.Random(0), i)
        _submit(Client(HTTP_HOST="localhost"), random.Random(0), i, BASELINE_URL)
    rows, baselines = {}, {}
    for clients in (1, os.cpu_count() or 1):
        start_at = 10_000 * clients
        baselines[clients] = _measure(clients, reports, start_at, BASELINE_URL)
        rows[clients] = _measure(clients, reports, start_at)
    stored = Report.objects.count() - before
    expected = warmup + sum(reports // n * n for n in rows)
    return {
        "db": db,
        "reports": reports,
        "stored": stored,
        "expected": expected,
        "rows": rows,
        "baselines": baselines,
    }


def _submit(client, rnd: random.Random, i: int, url: str = "/rapportera/") -> float:
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
    response = client.post(url, data)
    elapsed = time.perf_counter() - start
    if response.status_code != 302:
        raise RuntimeError(f"submission {i} failed: {response.status_code}")
    return elapsed


def _client_loop(first: int, count: int, queue, url: str) -> None:
    from django.db import connections
    from django.test import Client

    connections.close_all()
    client = Client(HTTP_HOST="localhost")
    rnd = random.Random(first)
    queue.put([_submit(client, rnd, first + i, url) for i in range(count)])


def _measure(
    clients: int, reports: int, start_at: int, url: str = "/rapportera/"
) -> dict:
    """``reports`` submissions from ``clients`` processes at once, one core each."""
    import multiprocessing
    from queue import Empty

    from django.db import connections

    # No connection, and no pool of them (PostgreSQL), crosses the fork: a
    # child sharing its parent's socket reads the other's answers.
    connections.close_all()
    for connection in connections.all(initialized_only=True):
        if hasattr(connection, "close_pool"):
            connection.close_pool()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    share = reports // clients
    workers = [
        context.Process(
            target=_client_loop, args=(start_at + n * share, share, queue, url)
        )
        for n in range(clients)
    ]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    times: list[float] = []
    for _ in workers:
        while True:  # a client process that died sends nothing: stop, say so
            try:
                times += queue.get(timeout=5)
                break
            except Empty:
                dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
                if dead:
                    for worker in workers:
                        worker.kill()
                    raise RuntimeError(f"a client process failed ({dead})") from None
    for worker in workers:
        worker.join()
    total = time.perf_counter() - start
    return {
        "per_second": len(times) / total,
        "p50_ms": percentile(times, 0.5) * 1000,
        "p95_ms": percentile(times, 0.95) * 1000,
        "max_ms": max(times) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS
    )
    parser.add_argument("--warmup", type=int, default=WARMUP, help=argparse.SUPPRESS)
    add_smoke(parser)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_profile(args.child, args.reports, args.warmup)))
        return
    if args.smoke:
        args.reports, args.warmup = SMOKE_REPORTS, SMOKE_WARMUP
    from devkit.instance import instance_setup, profile_env_for

    rows, problems = [], []
    load_start = load_average()
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        profile = "scaled" if db == "postgres" else "embedded"
        with (
            tempfile.TemporaryDirectory() as tmp,
            profile_env_for(
                profile, Path(tmp) / "var", database_url=database_url()
            ) as env,
        ):
            instance_setup(env, 80)
            command = [sys.executable, __file__, "--child", db]
            command += ["--reports", str(args.reports), "--warmup", str(args.warmup)]
            done = subprocess.run(
                command, env=env, stdout=subprocess.PIPE, text=True, check=True
            )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        if r["stored"] != r["expected"]:
            problems.append(f"{db}: {r['stored']} reports stored, not {r['expected']}")
        for clients, m in r["rows"].items():
            result(
                f"submit {db}, {clients} client processes",
                m["per_second"],
                r["baselines"][clients]["per_second"],
                "requests/s",
            )
    loads = (load_start, load_average())
    import django

    table = []
    for r in rows:
        for clients, m in r["rows"].items():
            base = r["baselines"][clients]["per_second"]
            table.append(
                f"| {r['db']} | {clients} | {r['reports']:,} | {m['per_second']:.0f} "
                f"| {m['p50_ms']:.1f} | {m['p95_ms']:.1f} | {m['max_ms']:.1f} "
                f"| {base:,.0f} | {ratio(m['per_second'], base):.3f} "
                f"| {'pass' if m['per_second'] >= TARGET else 'fail'} |"
            )
    text = (
        "\n".join(
            [
                HEADING,
                "",
                "`POST /rapportera/` without a photo by an anonymous citizen, through "
                "Django's test client (server time: validation, kommun lookup, routing, "
                "one transaction, the confirmation e-mail task queued in the database). "
                f"After {args.warmup} warm-up requests (and as many to the baseline): "
                "first one client process submitting one "
                "report after the other (one core), then one client process per core "
                "at once against the same database (each process is its own server, as "
                f"in the scaled profile). Baseline, measured in the same run just "
                "before each row with the same client processes: the same form "
                "POSTed to the minimal view through the same client, URL routing and "
                "middleware (it reads the form and answers a redirect; no validation, "
                "no database); × baseline is reports/s over the baseline's "
                f"requests/s. Target: at least {TARGET} reports/s.",
                "",
                f"- CPU: {cpu_description()}; {load_note(*loads)}",
                f"- Python {sys.version.split()[0]}, Django {django.get_version()}",
                f"- Date: {today()}",
                "",
                "```sh",
                " ".join(["python", "bench/submit.py", *sys.argv[1:]]),
                "```",
                "",
                "| Database | Client processes | Reports | Reports/s | p50 ms | p95 ms "
                "| max ms | Baseline requests/s | × baseline | Target |",
                "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
                *table,
            ]
        )
        + "\n"
    )
    if not args.smoke:
        write_section(HEADING, text)
    print(text)
    finish(problems)


if __name__ == "__main__":
    main()
