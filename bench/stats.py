"""Benchmark: the statistics pages over a kommun of 100,000 reports.

Run from the repository root::

    python bench/stats.py [--reports N] [--events E] [--db sqlite|postgres|both] [--seed S] [--smoke]

For each database the script makes a throwaway instance with the demo data
(``devkit.instance.profile_env_for``, as bench/inbox.py does) and writes N
reports in Malmö received over the twelve months before the generator's date
(bench/map.py's generator), E events for them in bulk (received, sent, then
status changes, public replies and internal notes by staff and by a case
system, the last status event the report's status now) and Malmö's service
promise (2 working days to a first response, 10 to a fix); then computes every
report's milestones with ``reports.milestones.milestones_compute`` (the rule
``milestones_rebuild`` applies), written in bulk. It times, through Django's
test client: the kommun's public page (``/statistik/`` on Malmö's site) for
the default period (the last 12 months) and for five years, a CSV table, the
national page (with its table of kommuner) for both periods, and the staff
dashboard of a member of Malmö's contact centre. Each database is filled in one subprocess and measured from a
fresh one. The results replace the section ``## stats: statistics pages`` of
``docs/benchmarks.md``.

Baseline: a minimal public view through the same stack (a few bytes behind
every middleware), measured in the same process just before the cases. Each
case's ratio is its p95 over the baseline's.

``--smoke``: 3,000 reports, 30,000 events and a few requests per case; nothing
written.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    LATENCY_TABLE_HEAD,
    add_smoke,
    cpu_description,
    finish,
    latency_results,
    latency_rows,
    load_average,
    load_note,
    percentile,
    phases_in_instance,
    today,
    write_section,
)

HEADING = "## stats: statistics pages"
KOMMUN_TARGET_MS = 500.0
NATIONAL_TARGET_MS = 1000.0
RUNS = 30
SMOKE_RUNS = 3
SMOKE_REPORTS = 3000
KOMMUN = "1280"  # Malmö
# Events per report, on average (received and sent, then the work).
EVENTS_PER_REPORT = 10

urlpatterns: list = []

NOTES = (
    "- Where the time goes: two GROUP BY queries over the period's reports "
    "(counts, promises and working days to a first response per month "
    "received, category, body and channel; working days to a fix), each "
    "answered from an index alone (`report_stats`, `report_stats_fix`) and "
    "grouped in the index's order, so that the database does not sort; "
    "Python adds up a few thousand groups per breakdown, never one row per "
    "report. The events are not read: the milestones kept on each report "
    "(reports.milestones) are the figures' only source.",
    "- The national page groups by kommun as well, over the whole index.",
    "- The first version grouped in another order than the index's, with three "
    "queries: SQLite sorted each, and the kommun's page took 625 ms (p50) and the "
    "national page 2.5 s on the same data.",
    "- PostgreSQL runs without JIT compilation and without parallel workers "
    "(config.settings). The run before that setting (the same data on an AMD "
    "EPYC of 2 cores, the same day) had the kommun's page at 268 ms and the staff dashboard at "
    "516 ms (p95).",
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- The parent -----------------------------------------------------------------


def run_profile(db: str, args: argparse.Namespace) -> dict:
    options = [
        "--reports",
        str(args.reports),
        "--events",
        str(args.events),
        "--seed",
        str(args.seed),
    ]
    return phases_in_instance(
        __file__, db, "stats", options + (["--smoke"] if args.smoke else [])
    )


def target_of(name: str) -> float | None:
    if name.startswith("Kommun") or name.startswith("Staff"):
        return KOMMUN_TARGET_MS
    if name.startswith("National"):
        return NATIONAL_TARGET_MS
    return None


def section(args: argparse.Namespace, results: list[dict], loads: tuple) -> str:
    command = " ".join(["python", "bench/stats.py", *sys.argv[1:]])
    versions = "; ".join([results[0]["versions"], *(r["db"] for r in results)])
    lines = [
        HEADING,
        "",
        f"The statistics pages over {args.reports:,} generated reports (seed "
        f"{args.seed}) in one kommun, Malmö, received over twelve months, with "
        f"{args.events:,} events and Malmö's service promise; the milestones "
        "computed by `reports.milestones.milestones_compute` (the rule "
        "`milestones_rebuild` applies) and written in bulk. Server time is the "
        "wall time of Django's test client `get()`: URL routing, every "
        "middleware, the queries and the rendering of the page (charts and "
        "tables) or the CSV, in process, with `DEBUG = False`. The baseline, "
        "measured in the same process just before the cases, is a minimal "
        "public view answering a few bytes. × baseline is a case's p95 over the "
        f"baseline's p95. Targets: p95 at most {KOMMUN_TARGET_MS:.0f} ms for the "
        f"kommun's page (and the staff dashboard), {NATIONAL_TARGET_MS:.0f} ms for "
        "the national page, on both databases.",
        "",
        f"- CPU: {cpu_description()} (one process, one request at a time; the "
        f"database server shares the cores); {load_note(*loads)}",
        "- " + versions,
        f"- Date: {today()}",
        "",
        "```sh",
        command,
        "```",
        "",
        *LATENCY_TABLE_HEAD,
    ]
    lines += latency_rows(results, target_of)
    lines += [
        "",
        *(
            "- "
            + note.format(
                generated_s=found["generated_s"], rebuilt_s=found["rebuilt_s"]
            )
            for found in results
            for note in found["notes"]
        ),
        *NOTES,
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=("sqlite", "postgres"), help="internal")
    parser.add_argument("--phase", choices=("build", "measure"), help="internal")
    add_smoke(parser)
    args = parser.parse_args()
    if args.smoke and "--reports" not in sys.argv[1:]:
        args.reports = SMOKE_REPORTS
    if args.events is None:
        args.events = args.reports * EVENTS_PER_REPORT
    if args.profile:
        setup_django()
        print(json.dumps(build(args) if args.phase == "build" else measure(args)))
        return
    dbs = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    load_start = load_average()
    results = [run_profile(db, args) for db in dbs]
    loads = (load_start, load_average())
    problems = latency_results("stats", results)
    text = section(args, results, loads)
    if not args.smoke:
        write_section(HEADING, text)
    print(text)
    finish(problems)


# --- The subprocess -------------------------------------------------------------


def setup_django() -> None:
    """Development settings, DEBUG off, no limit on the CSV files, sign-in
    without a second factor (force_login) and the baseline view."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    settings.KNUTPUNKT_STAFF_TWO_FACTOR_REQUIRED = False
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "statistics_csv": (1_000_000, 600),
    }
    from django.http import HttpResponse
    from django.urls import path

    from config import urls

    def ok(request):
        return HttpResponse("ok")

    urlpatterns[:] = [path("bench-ok/", ok), *urls.urlpatterns]
    settings.ROOT_URLCONF = __name__


def events_write(args: argparse.Namespace, municipality_id: int) -> int:
    """About ``args.events`` events for the kommun's confirmed reports, in
    bulk: received (the reporter), sent (Knutpunkt), then the work, hours to
    weeks apart; the last status event is the report's status now."""
    import numpy as np
    from django.db import connection, transaction

    from reports.models import Report

    rows_in = list(
        Report.objects.filter(municipality_id=municipality_id)
        .exclude(confirmed_at=None)
        .order_by("pk")
        .values_list("pk", "confirmed_at", "status")
    )
    if not rows_in:
        return 0
    rng = np.random.default_rng(args.seed + 2)
    n = len(rows_in)
    per = args.events / n
    base = max(2, int(per))
    extra = rng.random(n) < (per - base)
    counts = (base + extra).tolist()
    work = ("investigating", "in_progress", "action_scheduled")
    postgres = connection.vendor == "postgresql"
    zone = "+00" if postgres else ""
    columns = (
        "report_id, kind, status, note, data, is_public, created_at, happened_at, "
        "superseded, actor_kind, actor_user_id, connection_id, external_status_code"
    )
    written = 0

    def stamp(moment) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f") + zone

    def rows(lo: int, hi: int):
        import datetime as dt

        for index in range(lo, hi):
            pk, confirmed, status = rows_in[index]
            k = counts[index]
            yield (
                pk,
                "confirmed",
                "",
                "",
                "{}",
                True,
                stamp(confirmed),
                None,
                False,
                "reporter",
                None,
                None,
                "",
            )
            sent = confirmed + dt.timedelta(seconds=5)
            yield (
                pk,
                "sent",
                "",
                "",
                "{}",
                True,
                stamp(sent),
                None,
                False,
                "system",
                None,
                None,
                "",
            )
            gaps = rng.exponential(1.2, size=k - 2).cumsum()
            kinds = rng.random(k - 2)
            by_system = rng.random(k - 2) < 0.4
            last_status = max((j for j in range(k - 2) if kinds[j] < 0.6), default=None)
            for j in range(k - 2):
                moment = confirmed + dt.timedelta(days=float(gaps[j]))
                actor = "connection" if by_system[j] else "staff"
                if kinds[j] < 0.6:
                    value = status if j == last_status else work[j % 3]
                    yield (
                        pk,
                        "status",
                        value,
                        "",
                        "{}",
                        True,
                        stamp(moment),
                        None,
                        False,
                        actor,
                        None,
                        None,
                        "",
                    )
                elif kinds[j] < 0.8:
                    yield (
                        pk,
                        "note",
                        "",
                        "Vi tittar på det.",
                        "{}",
                        True,
                        stamp(moment),
                        None,
                        False,
                        actor,
                        None,
                        None,
                        "",
                    )
                else:
                    yield (
                        pk,
                        "note",
                        "",
                        "Intern anteckning.",
                        "{}",
                        False,
                        stamp(moment),
                        None,
                        False,
                        "staff",
                        None,
                        None,
                        "",
                    )

    batch = 5000
    placeholders = ", ".join(["%s"] * 13)
    with connection.cursor() as cursor:
        for lo in range(0, n, batch):
            hi = min(n, lo + batch)
            chunk = list(rows(lo, hi))
            written += len(chunk)
            with transaction.atomic():
                if postgres:
                    sql = f"COPY reports_reportevent ({columns}) FROM STDIN"
                    with cursor.cursor.copy(sql) as copy:
                        for row in chunk:
                            copy.write_row(row)
                else:
                    cursor.executemany(
                        f"INSERT INTO reports_reportevent ({columns}) "  # noqa: S608
                        f"VALUES ({placeholders})",
                        chunk,
                    )
    return written


def milestones_write(municipality_id: int, batch: int = 5000) -> int:
    """Every report's milestones, computed by ``reports.milestones``' own rule
    (``milestones_compute``, as ``milestones_rebuild`` does) and written in
    bulk: through a temporary table and one UPDATE … FROM per batch, where
    ``milestones_rebuild``'s ``bulk_update`` would take about 13 ms a report
    on SQLite (a CASE per field and row, built by the ORM)."""
    from django.db import connection, transaction

    from municipalities.promises import calendar_for, promises_of
    from reports.milestones import (
        EVENT_FIELDS,
        MILESTONE_FIELDS,
        ROW_FIELDS,
        milestones_compute,
    )
    from reports.models import Report, ReportEvent

    calendar = calendar_for(municipality_id)
    promises = promises_of(municipality_id)
    ids = list(
        Report.objects.filter(municipality_id=municipality_id)
        .exclude(confirmed_at=None)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    postgres = connection.vendor == "postgresql"
    types = {
        "received_on": "date",
        "received_month": "date",
        "first_response_at": "timestamptz" if postgres else "datetime",
        "response_days": "integer",
        "fixed_at": "timestamptz" if postgres else "datetime",
        "fix_days": "integer",
        "closed_at": "timestamptz" if postgres else "datetime",
        "promise_response_days": "integer",
        "promise_fix_days": "integer",
        "response_due_at": "timestamptz" if postgres else "datetime",
        "fix_due_at": "timestamptz" if postgres else "datetime",
        "due_at": "timestamptz" if postgres else "datetime",
    }
    definition = ", ".join(f"{name} {types[name]}" for name in MILESTONE_FIELDS)
    names = ", ".join(MILESTONE_FIELDS)
    placeholders = ", ".join(["%s"] * (len(MILESTONE_FIELDS) + 1))
    assignments = ", ".join(f"{name} = m.{name}" for name in MILESTONE_FIELDS)

    def stored(value):
        # SQLite keeps UTC moments as text without an offset, dates as text.
        if postgres or value is None or isinstance(value, int):
            return value
        if hasattr(value, "utcoffset") and hasattr(value, "hour"):
            return value.astimezone(dt_utc()).replace(tzinfo=None).isoformat(" ")
        return value.isoformat()

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE bench_milestones (id bigint PRIMARY KEY, {definition})"
        )
        for lo in range(0, len(ids), batch):
            chunk = ids[lo : lo + batch]
            rows = list(Report.objects.filter(pk__in=chunk).values(*ROW_FIELDS))
            events: dict[int, list[dict]] = {pk: [] for pk in chunk}
            for event in ReportEvent.objects.filter(report_id__in=chunk).values(
                "report_id", *EVENT_FIELDS
            ):
                events[event["report_id"]].append(event)
            computed = []
            for row in rows:
                promise = promises.get(row["category_id"], promises.get(None))
                fields = milestones_compute(
                    confirmed_at=row["confirmed_at"],
                    status=row["status"],
                    events=events[row["id"]],
                    promise=promise,
                    calendar=calendar,
                )
                computed.append(
                    (row["id"], *(stored(fields[name]) for name in MILESTONE_FIELDS))
                )
            with transaction.atomic():
                cursor.execute("DELETE FROM bench_milestones")
                cursor.executemany(
                    f"INSERT INTO bench_milestones (id, {names}) VALUES ({placeholders})",  # noqa: S608
                    computed,
                )
                cursor.execute(
                    f"UPDATE reports_report SET {assignments} FROM bench_milestones m "  # noqa: S608
                    "WHERE reports_report.id = m.id"
                )
        cursor.execute("DROP TABLE bench_milestones")
    return len(ids)


def dt_utc():
    import datetime as dt

    return dt.UTC


def build(args: argparse.Namespace) -> dict:
    import numpy as np
    from django.db import DatabaseError, connection

    import bench.map
    from bench.map import generate, towns
    from municipalities.models import Municipality, ServicePromise

    start = time.perf_counter()
    malmo = Municipality.objects.get(code=KOMMUN)
    ServicePromise.objects.update_or_create(
        municipality=malmo, category=None, defaults={"response_days": 2, "fix_days": 10}
    )
    places = [p for p in towns(np.random.default_rng(args.seed)) if p[0] == malmo.pk]
    # Twelve months of reports, not the map's eight years: the statistics'
    # default period holds them all.
    bench.map.YEARS = 1
    generate(args.reports, args.seed, places)
    events = events_write(args, malmo.pk)
    generated_s = time.perf_counter() - start
    log(
        f"{connection.vendor}: {args.reports:,} reports and {events:,} events in {generated_s:.0f} s"
    )
    started = time.perf_counter()
    rebuilt = milestones_write(malmo.pk)
    rebuilt_s = time.perf_counter() - started
    log(f"{connection.vendor}: milestones of {rebuilt:,} reports in {rebuilt_s:.0f} s")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
            try:
                cursor.execute("CHECKPOINT")
            except DatabaseError as exc:  # needs superuser or pg_checkpoint
                log(f"No CHECKPOINT ({exc}); the timings may include its writes.")
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"generated_s": generated_s, "rebuilt_s": rebuilt_s, "events": events}


def stats(times_ms: list[float]) -> dict:
    return {
        "p50": statistics.median(times_ms),
        "p95": percentile(times_ms, 0.95),
        "max": max(times_ms),
    }


def time_requests(client, urls: list[str], host: str, check) -> tuple[dict, list[str]]:
    problems = []
    for url in urls[: max(1, len(urls) // 5)]:
        client.get(url, HTTP_HOST=host)
    times = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url, HTTP_HOST=host)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            problems.append(f"{host}{url}: {response.status_code}")
        elif check and not check(response):
            problems.append(f"{host}{url}: a wrong answer")
    return stats(times), problems


def measure(args: argparse.Namespace) -> dict:
    import datetime as dt
    import gc

    import django
    import psycopg
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from municipalities.choices import StaffRole
    from municipalities.models import Municipality
    from municipalities.services import staff_membership_grant
    from reports.models import Report

    runs = SMOKE_RUNS if args.smoke else RUNS
    db = "SQLite" if connection.vendor == "sqlite" else "PostgreSQL"
    malmo = Municipality.objects.select_related("site").get(code=KOMMUN)
    national_host = "localhost"
    kommun_host = malmo.site.hostname
    user = get_user_model().objects.create_user(
        username="bench-contact-centre", email="bench@example.org"
    )
    staff_membership_grant(user=user, municipality=malmo, role=StaffRole.CONTACT_CENTRE)
    received = Report.objects.filter(municipality=malmo).exclude(received_on=None)
    total = received.count()
    answered = received.exclude(response_days=None).count()
    last = (
        received.order_by("-received_on").values_list("received_on", flat=True).first()
    )
    end = last or dt.date.today()
    five_years = {
        "from": (end - dt.timedelta(days=5 * 365)).isoformat(),
        "to": end.isoformat(),
    }

    def page(**query) -> str:
        return "/statistik/" + (f"?{urlencode(query)}" if query else "")

    def shown(response) -> bool:
        return b'id="table-month-heading"' in response.content

    def csv_rows(response) -> bool:
        return response.content.count(b"\n") >= 2

    # (name, urls, host, check, signed in)
    cases = [
        (
            "Baseline: a minimal public view",
            ["/bench-ok/"] * runs,
            kommun_host,
            None,
            False,
        ),
        (
            "Kommun page, last 12 months (default)",
            [page()] * runs,
            kommun_host,
            shown,
            False,
        ),
        (
            "Kommun page, five years",
            [page(**five_years)] * runs,
            kommun_host,
            shown,
            False,
        ),
        (
            "Kommun CSV, by month, five years",
            [page(format="csv", table="month", **five_years)] * runs,
            kommun_host,
            csv_rows,
            False,
        ),
        (
            "National page, last 12 months (default)",
            [page()] * runs,
            national_host,
            shown,
            False,
        ),
        (
            "National page, five years",
            [page(**five_years)] * runs,
            national_host,
            shown,
            False,
        ),
        (
            "Staff dashboard, the kommun, last 12 months",
            ["/admin/statistics/"] * runs,
            "localhost",
            shown,
            True,
        ),
        (
            "Staff dashboard, open reports of the kommun",
            ["/admin/statistics/?status=open"] * runs,
            "localhost",
            shown,
            True,
        ),
    ]
    measured, problems = [], []
    for name, urls, host, check, signed_in in cases:
        client = Client()
        if signed_in:
            client.force_login(user)
        gc.collect()
        timing, wrong = time_requests(client, urls, host, check)
        problems += wrong
        measured.append({"name": name, "runs": len(urls), **timing})
        log(f"{db}: {name}: p50 {timing['p50']:.1f} p95 {timing['p95']:.1f} ms")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            db_version = f"SQLite {cursor.fetchone()[0]}"
        else:
            cursor.execute("SHOW server_version")
            db_version = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    versions = (
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"psycopg {psycopg.__version__}"
    )
    note = (
        f"{db_version}: {total:,} reports received in the kommun ({answered:,} "
        f"answered); writing {args.reports:,} reports and their events took "
        "{generated_s:.0f} s, computing their milestones {rebuilt_s:.0f} s."
    )
    return {
        "db": db_version,
        "versions": versions,
        "cases": measured,
        "problems": problems,
        "notes": [note],
    }


if __name__ == "__main__":
    main()
