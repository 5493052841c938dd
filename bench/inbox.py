"""Benchmark: the staff inbox over 100,000 reports in one kommun.

Run from the repository root::

    python bench/inbox.py [--reports N] [--db sqlite|postgres|both] [--seed S] [--smoke]

For each database the script makes a throwaway instance with the demo data
(``devkit.instance.profile_env_for``, as bench/map.py does), writes N reports in
Malmö (bench/map.py's generator, every report in that one kommun: most around
the centre, the rest over the kommun) and a delivery to the kommun's inbox for
most of them, then times the inbox through Django's test client, signed in as
a member of the kommun's contact centre (who sees every report of the kommun):
the list's first page, filtered (status and category), sorted by priority,
searched (free text, no hit and a common word), the middle page and a deep
page, the area filter (a box, a polygon and a circle of 200 corners) and the
map's JSON (the whole kommun clustered, and street level), and the
service-promise filters (overdue and due soon, sorted by due date; the open
reports get due dates: most fell due 14 days after receipt, a tenth fall due
within the next three days). Each database is filled in one subprocess and
measured from a fresh one. The results replace the
section ``## inbox: staff inbox over one kommun`` of ``docs/benchmarks.md``.

Baseline: a minimal admin view through the same stack, measured in the same
process just before the cases: a view behind Wagtail's ``require_admin_access``
(the admin's sign-in and permission check) answering a few bytes, with the same
signed-in user, session and middleware. Each case's ratio is its p95 over the
baseline's.

``--smoke``: 3,000 reports and a few requests per case; nothing written.
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

HEADING = "## inbox: staff inbox over one kommun"
TARGET_MS = 150.0
RUNS = 40
SMOKE_RUNS = 5
SMOKE_REPORTS = 3000
KOMMUN = "1280"  # Malmö
CENTRE = (55.6059, 13.0007)  # Stortorget
# Share of reports with a delivery to the kommun's inbox; the rest have none
# (sent by e-mail before the inbox existed, say).
DELIVERED_SHARE = 0.8

urlpatterns: list = []

NOTES = (
    "- Where the time goes: the list's queries are a small part. Its rows carry "
    "subqueries (the newest delivery's state and reference); the inbox pages "
    "through ids on an index per sort (received, priority, due date), every "
    "sort ending in the report's number, and reads the page's 50 rows only, by "
    "id. A page past the middle is read from the far end, so the last page "
    "costs what the first does; the middle page is the deepest skip. The rest "
    "is Wagtail rendering the admin page: menu, filter form and 50 rows (the "
    "table's cells written in Python, not one template each).",
    "- A free-text search reads `Report.search_text` (title, description and "
    "address, lower-cased by the database on every write; reports.search): on "
    "PostgreSQL through a trigram GIN index (pg_trgm), which finds the matching "
    "rows without reading the others; on SQLite through a b-tree over (kommun, "
    "received, number, status, text), read in order from the index alone. A "
    "number looks up the report's number and case-system references (matched "
    "whole, on an index) without reading any text.",
    "- A drawn area (workspace.areas) is tested in SQL by the even-odd rule, "
    "cut into bands of latitude: a row tests the edges crossing its band, and "
    "none in the part of its band wholly inside the area. It is counted and "
    "paged from the `report_inbox_map` index, each apart (cheaper than reading "
    "every id in it once).",
    "- PostgreSQL runs without JIT compilation and without parallel workers "
    "(config.settings): with them, the circle's count spent up to 180 ms "
    "compiling and a page's query waited 10 ms for its workers.",
    "- The whole kommun's map at zoom 10 counts every report of the kommun per "
    "grid cell from the `report_inbox_map` index: bounded in features (at most "
    "500), not in rows read.",
)


# --- The parent -----------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_profile(db: str, args: argparse.Namespace) -> dict:
    options = ["--reports", str(args.reports), "--seed", str(args.seed)]
    return phases_in_instance(
        __file__, db, "inbox", options + (["--smoke"] if args.smoke else [])
    )


def section(args: argparse.Namespace, results: list[dict], loads: tuple) -> str:
    command = " ".join(["python", "bench/inbox.py", *sys.argv[1:]])
    versions = "; ".join([results[0]["versions"], *(r["db"] for r in results)])
    lines = [
        HEADING,
        "",
        f"The staff inbox (`/admin/inbox/`) over {args.reports:,} generated reports "
        f"(seed {args.seed}) in one kommun, Malmö: bench/map.py's generator with "
        "every report in that kommun (most around the centre), "
        f"{DELIVERED_SHARE:.0%} with a delivery to the kommun's inbox. Signed in as "
        "the kommun's contact centre, who sees all of them. Server time is the wall "
        "time of Django's test client `get()`: URL routing, every middleware, the "
        "session and sign-in, the queries and the rendering of Wagtail's listing "
        "(50 rows) or the map's JSON, in process, with `DEBUG = False`. The "
        "baseline, measured in the same process just before the cases, is a "
        "minimal admin view: a few bytes behind Wagtail's `require_admin_access`, "
        "same user and session. × baseline is a case's p95 over the baseline's "
        f"p95. Target: p95 at most {TARGET_MS:.0f} ms for every case on both "
        "databases.",
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
    lines += latency_rows(results, lambda _name: TARGET_MS)
    lines += [
        "",
        *(
            "- " + note.format(generated_s=found["generated_s"])
            for found in results
            for note in found["notes"]
        ),
        *NOTES,
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=("sqlite", "postgres"), help="internal")
    parser.add_argument("--phase", choices=("build", "measure"), help="internal")
    add_smoke(parser)
    args = parser.parse_args()
    if args.smoke and "--reports" not in sys.argv[1:]:
        args.reports = SMOKE_REPORTS
    if args.profile:
        setup_django()
        print(json.dumps(build(args) if args.phase == "build" else measure(args)))
        return
    dbs = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    load_start = load_average()
    results = [run_profile(db, args) for db in dbs]
    loads = (load_start, load_average())
    problems = latency_results("inbox", results)
    text = section(args, results, loads)
    if not args.smoke:
        write_section(HEADING, text)
    print(text)
    finish(problems)


# --- The subprocess -------------------------------------------------------------


def setup_django() -> None:
    """Development settings, DEBUG off, sign-in without a second factor (the
    client signs in with force_login) and the baseline view."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    settings.KNUTPUNKT_STAFF_TWO_FACTOR_REQUIRED = False
    from django.http import HttpResponse
    from django.urls import path
    from wagtail.admin.auth import require_admin_access

    from config import urls

    @require_admin_access
    def ok(request):
        return HttpResponse("ok")

    urlpatterns[:] = [path("admin/bench-ok/", ok), *urls.urlpatterns]
    settings.ROOT_URLCONF = __name__


def build(args: argparse.Namespace) -> dict:
    import numpy as np
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.map import generate, towns
    from casehub.choices import DeliveryState
    from casehub.models import Delivery
    from municipalities.choices import ConnectionKind
    from municipalities.models import Connection, Municipality
    from reports.models import Report

    start = time.perf_counter()
    malmo = Municipality.objects.get(code=KOMMUN)
    places = [p for p in towns(np.random.default_rng(args.seed)) if p[0] == malmo.pk]
    generate(args.reports, args.seed, places)
    due_dates(malmo, now=timezone.now())
    inbox = Connection.objects.get(
        body__municipalities=malmo, body__kind="municipal", kind=ConnectionKind.INBOX
    )
    rng = np.random.default_rng(args.seed + 1)
    ids = list(Report.objects.filter(municipality=malmo).values_list("pk", flat=True))
    states = [DeliveryState.DELIVERED, DeliveryState.PENDING, DeliveryState.DEAD]
    now = timezone.now()
    chosen = [i for i in ids if rng.random() < DELIVERED_SHARE]
    picks = rng.choice(len(states), size=len(chosen), p=[0.9, 0.07, 0.03]).tolist()
    batch = 5000
    for lo in range(0, len(chosen), batch):
        with transaction.atomic():
            Delivery.objects.bulk_create(
                Delivery(
                    report_id=report_id,
                    connection=inbox,
                    state=states[pick],
                    next_attempt_at=now,
                    queued_at=now,
                    external_id=f"MLM-{report_id:07d}",
                )
                for report_id, pick in zip(
                    chosen[lo : lo + batch], picks[lo : lo + batch], strict=True
                )
            )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    generated_s = time.perf_counter() - start
    log(f"{connection.vendor}: {args.reports:,} reports written in {generated_s:.0f} s")
    return {"generated_s": generated_s}


def due_dates(malmo, *, now) -> None:
    """Open reports' due dates (the generator writes none): 14 days after
    receipt, so most are overdue, and for a tenth of them within the next
    three days, in steps of eight hours."""
    from datetime import timedelta

    from django.db.models import F
    from django.db.models.functions import Mod

    from reports.choices import OPEN_STATUSES
    from reports.models import Report

    open_ = Report.objects.filter(municipality=malmo, status__in=OPEN_STATUSES)
    open_.update(due_at=F("confirmed_at") + timedelta(days=14))
    for step in range(10):
        open_.alias(bucket=Mod("id", 100)).filter(bucket=step).update(
            due_at=now + timedelta(hours=8 * step)
        )


def stats(times_ms: list[float]) -> dict:
    return {
        "p50": statistics.median(times_ms),
        "p95": percentile(times_ms, 0.95),
        "max": max(times_ms),
    }


def time_requests(client, urls: list[str], check) -> tuple[dict, list[str]]:
    problems = []
    for url in urls[: max(1, len(urls) // 5)]:
        client.get(url)
    times = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            problems.append(f"{url}: {response.status_code}")
        elif check and not check(response):
            problems.append(f"{url}: a wrong answer")
    return stats(times), problems


def measure(args: argparse.Namespace) -> dict:
    import gc
    import math
    import random

    import django
    import psycopg
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from municipalities.choices import StaffRole
    from municipalities.models import Category, Municipality
    from municipalities.services import staff_membership_grant
    from reports.models import Report
    from workspace.due import due_q

    runs = SMOKE_RUNS if args.smoke else RUNS
    rng = random.Random(args.seed)
    db = "SQLite" if connection.vendor == "sqlite" else "PostgreSQL"
    malmo = Municipality.objects.get(code=KOMMUN)
    user = get_user_model().objects.create_user(
        username="bench-contact-centre", email="bench@example.org"
    )
    staff_membership_grant(user=user, municipality=malmo, role=StaffRole.CONTACT_CENTRE)
    in_kommun = Report.objects.filter(municipality=malmo).exclude(status="unconfirmed")
    total = in_kommun.count()
    top = (
        Category.objects.filter(reports__municipality=malmo)
        .annotate(n=Count("reports"))
        .order_by("-n")
        .first()
    )
    deep = max(1, total // 50 - 10)
    # The deepest skip: pages past the middle are read from the far end.
    middle = max(1, (total // 50 + 1) // 2)
    overdue = in_kommun.filter(due_q("overdue")).count()
    soon = in_kommun.filter(due_q("soon")).count()
    lat, lon = CENTRE
    box = f"{lon - 0.01:.5f},{lat - 0.005:.5f},{lon + 0.01:.5f},{lat + 0.005:.5f}"
    polygon = json.dumps(
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [lon - 0.03, lat - 0.02],
                    [lon + 0.03, lat - 0.02],
                    [lon + 0.01, lat + 0.02],
                    [lon - 0.03, lat + 0.02],
                    [lon - 0.03, lat - 0.02],
                ]
            ],
        }
    )

    # A district-like area of many corners: a circle of 3 km radius, 200
    # corners, in 6 decimals as the inbox map's drawing sends them.
    circle = json.dumps(
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [
                        round(lon + 0.048 * math.cos(2 * math.pi * k / 200), 6),
                        round(lat + 0.027 * math.sin(2 * math.pi * k / 200), 6),
                    ]
                    for k in [*range(200), 0]
                ]
            ],
        }
    )

    def inbox(**query) -> str:
        return "/admin/inbox/?" + urlencode(query, doseq=True)

    def map_json(bbox, zoom, **query) -> str:
        return "/admin/inbox/map/reports/?" + urlencode(
            {"bbox": bbox, "zoom": zoom, **query}, doseq=True
        )

    def jittered_street() -> str:
        dlat, dlon = rng.uniform(-0.01, 0.01), rng.uniform(-0.02, 0.02)
        b = (
            lon + dlon - 0.008,
            lat + dlat - 0.004,
            lon + dlon + 0.008,
            lat + dlat + 0.004,
        )
        return ",".join(f"{v:.5f}" for v in b)

    def listed(response) -> bool:
        return b"/admin/inbox/" in response.content

    def mapped(response) -> bool:
        return bool(json.loads(response.content)["features"])

    kommun_box = "12.85,55.45,13.2,55.65"
    # (name, urls, check)
    cases = [
        ("Baseline: a minimal admin view", ["/admin/bench-ok/"] * runs, None),
        ("List, page 1, newest first", [inbox()] * runs, listed),
        (
            f"List, status open + category {top.slug}",
            [inbox(status="open", category=top.pk)] * runs,
            listed,
        ),
        (
            "List, sorted by priority",
            [inbox(ordering="priority_rank")] * runs,
            listed,
        ),
        (
            "Search, a common word (Storgatan)",
            [inbox(q="Storgatan")] * runs,
            listed,
        ),
        ("Search, no hit", [inbox(q="Kyrkbacken zz")] * runs, None),
        (
            "Search, a report number",
            [inbox(q=f"#{in_kommun.values_list('pk', flat=True).first()}")] * runs,
            listed,
        ),
        (f"List, the middle page (page {middle:,})", [inbox(p=middle)] * runs, listed),
        (f"List, a deep page (page {deep:,})", [inbox(p=deep)] * runs, listed),
        ("Area: a box of 1.3 × 1.1 km", [inbox(area=box)] * runs, listed),
        ("Area: a polygon of 3.8 × 4.4 km", [inbox(area=polygon)] * runs, listed),
        (
            "Area: a circle of 200 corners, 3 km radius",
            [inbox(area=circle)] * runs,
            listed,
        ),
        (
            "Map JSON: the whole kommun (zoom 10, clusters)",
            [map_json(kommun_box, 10)] * runs,
            mapped,
        ),
        (
            "Map JSON: street level (zoom 16) around the centre",
            [map_json(jittered_street(), 16) for _ in range(runs)],
            mapped,
        ),
        (
            "Map JSON: whole kommun, status open + category",
            [map_json(kommun_box, 10, status="open", category=top.pk)] * runs,
            mapped,
        ),
        (
            f"List, overdue, by due date ({overdue:,} reports)",
            [inbox(due="overdue", ordering="due_at")] * runs,
            listed,
        ),
        (
            f"List, due soon, by due date ({soon:,} reports)",
            [inbox(due="soon", ordering="due_at")] * runs,
            listed,
        ),
        (
            "List, sorted by due date (latest first)",
            [inbox(ordering="-due_at")] * runs,
            listed,
        ),
        (
            "Map JSON: whole kommun, overdue",
            [map_json(kommun_box, 10, due="overdue")] * runs,
            mapped,
        ),
    ]
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    measured, problems = [], []
    for name, urls, check in cases:
        gc.collect()
        timing, wrong = time_requests(client, urls, check)
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
        f"{db_version}: {total:,} confirmed reports in the kommun; "
        f"{args.reports:,} reports and their deliveries took "
        f"{{generated_s:.0f}} s to write."
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
