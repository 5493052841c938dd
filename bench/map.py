"""Benchmark: the public map's JSON endpoint over a million reports.

Run from the repository root::

    python bench/map.py [--reports N] [--db sqlite|postgres|both] [--seed S] [--smoke]

For each database the script makes a throwaway instance with the demo data
(``devkit.instance.profile_env_for``: a new SQLite file, or a new PostgreSQL
database on the server named by DATABASE_URL, else postgres@127.0.0.1:5432,
dropped afterwards; the cache stays in process for both), writes N reports
clustered around Swedish towns, then times ``GET /api/v1/reports`` through
Django's test client (the full middleware stack and URL routing, in process: no
network, no HTTP server). Each database is filled in one subprocess of this
script and measured from a fresh one (Django's settings are fixed once per
process, and a fresh process carries none of the generator's memory). The
results replace the section ``## map: reports in a bounding box`` of
``docs/benchmarks.md``.

Baseline: the minimal view through the same stack, measured in the same process
just before the map's cases: a view answering ``JsonResponse({"ok": True})`` at
``/bench/ok``, requested through the same test client, URL routing and every
middleware, with no query. Each case's ratio is its p50 over the baseline's.

``--smoke``: 3,000 reports and a few requests per case; nothing written.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    add_smoke,
    cpu_description,
    load_average,
    load_note,
    percentile,
    phases_in_instance,
    ratio,
    result,
    today,
    write_section,
)

HEADING = "## map: reports in a bounding box"
TARGET_MS = 15.0
# Requests per case (street level, wider views, all of Sweden, the baseline) and
# boxes per index comparison (1 km, 5 km): a full run, and a smoke run.
RUNS = {"street": 500, "mid": 60, "country": 15, "baseline": 500, "index": 100,
        "wide": 60}  # fmt: skip
SMOKE_RUNS = {"street": 30, "mid": 6, "country": 2, "baseline": 30, "index": 20,
              "wide": 6}  # fmt: skip
SMOKE_REPORTS = 3000
# Untimed requests before each case (at most a fifth of its count), as a running
# server has a busy area in its caches.
WARMUP = 100

# The largest towns: (kommunkod, population in thousands, centre lat, lon). The
# other kommuner get a town at a point inside their polygon and a smaller,
# random population.
CITIES = (
    ("0180", 985, 59.3326, 18.0649),  # Stockholm, Sergels torg
    ("1480", 600, 57.7072, 11.9668),  # Göteborg
    ("1280", 360, 55.6059, 13.0007),  # Malmö
    ("0380", 245, 59.8586, 17.6389),  # Uppsala
    ("0580", 167, 58.4108, 15.6214),  # Linköping
    ("1880", 160, 59.2741, 15.2066),  # Örebro
    ("1980", 158, 59.6099, 16.5448),  # Västerås
    ("1283", 151, 56.0465, 12.6945),  # Helsingborg
    ("0581", 146, 58.5877, 16.1924),  # Norrköping
    ("0680", 144, 57.7826, 14.1618),  # Jönköping
    ("2480", 131, 63.8258, 20.2630),  # Umeå
    ("1281", 128, 55.7047, 13.1910),  # Lund
)
# Share of reports near a town centre; the rest fall anywhere in the kommun.
TOWN_SHARE = 0.85
STATUS_SHARES = {
    "unconfirmed": 6,
    "open": 28,
    "investigating": 5,
    "in_progress": 5,
    "action_scheduled": 2,
    "fixed": 36,
    "closed": 11,
    "duplicate": 2,
    "not_responsible": 2,
    "unable_to_fix": 1,
    "no_further_action": 2,
}
HIDDEN_SHARE = 0.01
SHOW_NAME_SHARE = 0.25
YEARS = 8
STREETS = (
    "Storgatan",
    "Drottninggatan",
    "Kungsgatan",
    "Järnvägsgatan",
    "Skolgatan",
    "Parkvägen",
    "Kyrkogatan",
    "Stationsvägen",
    "Strandvägen",
    "Björkvägen",
)
NAMES = ("Anna Andersson", "Erik Johansson", "Maria Karlsson", "Lars Nilsson")
DESCRIPTIONS = (
    "Lampan har varit släckt i över en vecka och det är mycket mörkt på gångvägen "
    "på kvällarna, särskilt vid övergångsstället.",
    "Stort hål i asfalten precis vid busshållplatsen. Cyklister väjer ut i "
    "körbanan för att undvika det.",
    "Nedskräpat runt återvinningsstationen, kartonger och plastpåsar ligger "
    "utspridda över hela gräsytan.",
    "Klotter på fasaden till tunneln under järnvägen, delvis över skylten.",
    "En trädgren har fallit över cykelbanan efter stormen i natt.",
)
SWEDEN = (10.5, 55.0, 24.2, 69.1)
COLUMNS = (
    "lat",
    "lon",
    "municipality_id",
    "category_id",
    "body_id",
    "title",
    "description",
    "extra",
    "name",
    "email",
    "phone",
    "show_name",
    "status",
    "is_hidden",
    "language",
    "created_at",
    "confirmed_at",
    "updated_at",
)

# The URLconf of the measuring subprocess: the project's, plus the baseline view.
urlpatterns: list = []


# --- The parent: one subprocess per database, then the document ----------------


def run_profile(db: str, args: argparse.Namespace) -> dict:
    options = ["--reports", str(args.reports), "--seed", str(args.seed)]
    return phases_in_instance(
        __file__, db, "map", options + (["--smoke"] if args.smoke else [])
    )


def section(args: argparse.Namespace, results: list[dict], loads: tuple) -> str:
    command = " ".join(["python", "bench/map.py", *sys.argv[1:]])
    versions = "; ".join([results[0]["versions"], *(r["db"] for r in results)])
    limit = results[0]["street_limit"]
    public = 1 - STATUS_SHARES["unconfirmed"] / sum(STATUS_SHARES.values())
    lines = [
        HEADING,
        "",
        f"`GET /api/v1/reports` over {args.reports:,} generated reports (seed "
        f"{args.seed}): {TOWN_SHARE:.0%} scattered around the centres of the 290 "
        "kommuner (the twelve largest towns weighted by population, half of each "
        "town's reports in a dense core), the rest uniformly over each kommun's "
        f"polygon; {public:.0%} confirmed, {HIDDEN_SHARE:.0%} hidden, created over "
        f"{YEARS} years. Server time is the wall time of Django's test client "
        "`get()`: URL routing, every middleware, the rate limit, the queries and "
        "the JSON encoding, in process (no HTTP server, no network), with "
        "`DEBUG = False`. The baseline, measured in the same process just before "
        'the cases, is the minimal view: `JsonResponse({"ok": True})` through the '
        "same client, URL routing and middleware, no query; × baseline is a "
        "case's p50 over the baseline's p50. "
        f"Each case starts with up to {WARMUP} untimed requests. The database is "
        "filled in one subprocess and measured from a fresh one. "
        f"Target: p95 at most {TARGET_MS:.0f} ms at street level on both "
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
        "| Case | Database | Requests | Features (mean) | p50 ms | p95 ms "
        "| max ms | × baseline (p50) | Target |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for found in results:
        base = found["cases"][0]["p50"]
        for case in found["cases"]:
            target = ""
            if case["target"]:
                target = "pass" if case["p95"] <= TARGET_MS else "fail"
            times = (
                "—" if case is found["cases"][0] else f"{ratio(case['p50'], base):.1f}"
            )
            lines.append(
                f"| {case['name']} | {found['db']} | {case['runs']} "
                f"| {case['features']} | {case['p50']:.2f} | {case['p95']:.2f} "
                f"| {case['max']:.2f} | {times} | {target} |"
            )
    lines += [
        "",
        f"Index comparison: only the query for the ids of the newest {limit + 1} "
        "public reports in a box, the part an index decides, through the ORM over "
        "the same boxes. `report_lat_lon` is the composite (lat, lon) index the "
        "model had; `report_map` is the index the map uses.",
        "",
        "| Box | Filter on | Database | Index used | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|--:|--:|--:|",
    ]
    for found in results:
        for row in found["indexes"]:
            lines.append(
                f"| {row['box']} | {row['filter']} | {found['db']} | "
                f"{row['index']} | {row['p50']:.2f} | {row['p95']:.2f} "
                f"| {row['max']:.2f} |"
            )
    lines += [
        "",
        "- The index: `report_map` is a plain B-tree on `(LatBand(lat), lon, lat, "
        "created_at, status, is_hidden, category_id, id)`, where `LatBand(lat)` is "
        "the expression floor((lat + 90) × 256), a band of 1/256° (434 m). A box "
        "is one short index range per band, bounded by lon on the second column, "
        "where a (lat, lon) index can only bound lat and must walk a strip of "
        "latitude across the whole country; and the index holds every column the "
        "map filters, sorts and groups on, so the newest-in-view ids and the "
        "clusters come from the index alone (an index-only scan on PostgreSQL, a "
        "covering index on SQLite). It is an index on an expression rather than a "
        "stored column because SQLite will not use an index holding a generated "
        "column as a covering index, and because then no code writing reports "
        "has to keep a derived column up to date.",
        f"- Street level shows the newest {limit} reports in the box: each costs a "
        "table read, a few objects and its JSON, and the last row above shows "
        "what 500 would cost. Finding the newest means reading every report in "
        "the box from the index, so a wide screen at zoom 14 over a city centre "
        "costs more than the 1 km target box.",
        "- Clusters are counted by the database over every report in the cells "
        "in view, so their cost grows with the number of reports there: the "
        "zoom-10 view of a large town reads every report in and around it, and "
        "all of Sweden reads every report. There is no target for them. The "
        "figures are the first, uncached answer: the endpoint caches clustered "
        "answers (the same for everyone) for 5 minutes under a version that "
        "every change to the public reports bumps, so repeats are a cache read.",
        "- The max column includes CPython's full garbage collections, which take "
        "around 100 ms in a process with Django and Wagtail loaded.",
        *(
            "- " + note.format(generated_s=found["generated_s"])
            for found in results
            for note in found["notes"]
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
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
    for found in results:
        base = found["cases"][0]
        for case in found["cases"][1:]:
            result(
                f"map {found['db']}, {case['name']}, p50",
                case["p50"],
                base["p50"],
                "ms",
            )
    text = section(args, results, loads)
    if not args.smoke:
        write_section(HEADING, text)
    print(text)


# --- The subprocess: build one database and measure ----------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def setup_django() -> None:
    """Development settings (the parent sets the database and KNUTPUNKT_VAR_DIR),
    with DEBUG off, the map's rate limit out of the way and the baseline view."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "reports_map": (10**9, 60),
    }
    from django.http import JsonResponse
    from django.urls import path

    from config import urls

    def ok(request):
        return JsonResponse({"ok": True})

    urlpatterns[:] = [path("bench/ok", ok), *urls.urlpatterns]
    settings.ROOT_URLCONF = __name__


def towns(rng) -> list[tuple]:
    """(municipality id, population, lat, lon, polygon) for every kommun."""
    import numpy as np
    import shapely

    from municipalities.models import Boundary

    cities = {code: (pop, lat, lon) for code, pop, lat, lon in CITIES}
    rows = (
        Boundary.objects.filter(generation__is_active=True)
        .order_by("municipality__code")
        .values_list("municipality_id", "municipality__code", "wkb")
    )
    found = []
    for municipality_id, code, wkb in rows:
        polygon = shapely.from_wkb(bytes(wkb))
        if code in cities:
            pop, lat, lon = cities[code]
        else:
            point = polygon.representative_point()
            lat, lon = point.y, point.x
            pop = float(np.clip(rng.lognormal(math.log(18), 0.8), 3, 110))
        found.append((municipality_id, pop, lat, lon, polygon))
    return found


def points(rng, places: list[tuple], n: int):
    """Which town each report belongs to, and where it is."""
    import numpy as np
    import shapely

    pops = np.array([p[1] for p in places])
    town = rng.choice(len(places), size=n, p=pops / pops.sum())
    lat, lon = np.empty(n), np.empty(n)
    near_town = rng.random(n) < TOWN_SHARE
    in_core = rng.random(n) < 0.5
    for i, (_, pop, clat, clon, polygon) in enumerate(places):
        sel = town == i
        k = int(sel.sum())
        if not k:
            continue
        # Half near the centre, half over the town; bigger towns spread wider.
        radius_km = 1.0 + 6.0 * math.sqrt(pop / 1000)
        sigma = np.where(in_core[sel], 0.3 * radius_km, radius_km)
        tlat = clat + rng.normal(0, 1, k) * sigma / 111.2
        tlon = clon + rng.normal(0, 1, k) * sigma / (
            111.2 * math.cos(math.radians(clat))
        )
        rural = ~near_town[sel]
        need = int(rural.sum())
        xs: list[float] = []
        ys: list[float] = []
        minx, miny, maxx, maxy = polygon.bounds
        while len(xs) < need:
            cx = rng.uniform(minx, maxx, need * 3)
            cy = rng.uniform(miny, maxy, need * 3)
            inside = shapely.contains_xy(polygon, cx, cy)
            xs += cx[inside].tolist()
            ys += cy[inside].tolist()
        tlon[rural], tlat[rural] = xs[:need], ys[:need]
        lat[sel], lon[sel] = tlat, tlon
    return town, lat, lon


def other_columns() -> dict[str, object]:
    """The columns of reports_report that the generator does not fill, each at
    its model default: a raw INSERT gets none of Django's defaults, so a NOT
    NULL column added to the model would fail the load. One with neither a
    default nor NULL allowed stops the benchmark here, saying which."""
    from reports.models import Report

    values = {}
    for field in Report._meta.concrete_fields:
        if field.primary_key or field.column in COLUMNS or field.generated:
            continue  # a generated column is the database's to write
        if field.has_default():
            value = field.get_default()
            if not isinstance(value, bool | int | float | str):
                raise RuntimeError(
                    f"reports_report.{field.column}: a default bench/map.py "
                    f"cannot write raw ({value!r}); give it a value there"
                )
            values[field.column] = value
        elif not field.null:
            raise RuntimeError(
                f"reports_report.{field.column} is NOT NULL without a default; "
                "bench/map.py must give it a value"
            )
    return values


def generate(n: int, seed: int, places: list[tuple], batch: int = 50_000) -> None:
    """Write n reports with raw multi-row statements (COPY on PostgreSQL)."""
    import numpy as np
    from django.db import DatabaseError, connection, transaction

    from municipalities.models import Body, Category, Route

    defaults = other_columns()
    fixed = tuple(defaults.values())

    rng = np.random.default_rng(seed)
    town, lat, lon = points(rng, places, n)
    categories = list(Category.objects.order_by("sort_order").values_list("id", "name"))
    category = rng.choice(
        len(categories), size=n, p=rng.dirichlet(np.full(len(categories), 2.0))
    )
    routes = {
        (m, c): b
        for m, c, b in Route.objects.values_list(
            "municipality_id", "category_id", "body_id"
        )
    }
    nationwide = Body.objects.filter(nationwide=True).values_list("id", flat=True)[0]
    statuses = list(STATUS_SHARES)
    shares = np.array(list(STATUS_SHARES.values()), dtype=float)
    status = rng.choice(len(statuses), size=n, p=shares / shares.sum())
    hidden = (rng.random(n) < HIDDEN_SHARE).tolist()
    show = (rng.random(n) < SHOW_NAME_SHARE).tolist()
    now = np.datetime64("2026-11-01T12:00:00", "us")
    micro_day = 86_400_000_000
    created = now - (rng.random(n) * YEARS * 365 * micro_day).astype("timedelta64[us]")
    updated = created + (rng.random(n) * 60 * micro_day).astype("timedelta64[us]")
    confirmed = created + (rng.random(n) * micro_day / 24).astype("timedelta64[us]")
    postgres = connection.vendor == "postgresql"
    zone = "+00" if postgres else ""  # SQLite stores UTC without an offset

    def stamps(values) -> list[str]:
        text = np.datetime_as_string(values, unit="us")
        return [s.replace("T", " ") + zone for s in text.tolist()]

    created_s, updated_s, confirmed_s = (
        stamps(created),
        stamps(updated),
        stamps(confirmed),
    )
    municipality_ids = [p[0] for p in places]
    lat_l, lon_l = lat.tolist(), lon.tolist()
    town_l, category_l, status_l = town.tolist(), category.tolist(), status.tolist()

    def rows(lo: int, hi: int):
        for i in range(lo, hi):
            municipality_id = municipality_ids[town_l[i]]
            category_id, category_name = categories[category_l[i]]
            state = statuses[status_l[i]]
            yield (
                lat_l[i],
                lon_l[i],
                municipality_id,
                category_id,
                routes.get((municipality_id, category_id), nationwide),
                f"{category_name}: {STREETS[i % len(STREETS)]} {i % 97 + 1}",
                DESCRIPTIONS[i % len(DESCRIPTIONS)],
                "{}",
                NAMES[i % len(NAMES)],
                f"reporter{i}@example.org",
                f"070-{i % 10_000_000:07d}",
                show[i],
                state,
                hidden[i],
                "sv",
                created_s[i],
                None if state == "unconfirmed" else confirmed_s[i],
                updated_s[i],
                *fixed,
            )

    columns = ", ".join((*COLUMNS, *defaults))
    placeholders = ", ".join(["%s"] * (len(COLUMNS) + len(defaults)))
    with connection.cursor() as cursor:
        for lo in range(0, n, batch):
            hi = min(n, lo + batch)
            with transaction.atomic():
                if postgres:
                    sql = f"COPY reports_report ({columns}) FROM STDIN"
                    with cursor.cursor.copy(sql) as copy:
                        for row in rows(lo, hi):
                            copy.write_row(row)
                else:
                    cursor.executemany(
                        f"INSERT INTO reports_report ({columns}) "  # noqa: S608
                        f"VALUES ({placeholders})",
                        list(rows(lo, hi)),
                    )
    with connection.cursor() as cursor:
        if postgres:
            # What autovacuum does after a bulk load: statistics, and the
            # visibility map that lets the map index answer without the table.
            cursor.execute("VACUUM ANALYZE reports_report")
            # Write the load out now rather than while requests are timed.
            try:
                cursor.execute("CHECKPOINT")
            except DatabaseError as exc:  # needs superuser or pg_checkpoint
                log(f"No CHECKPOINT ({exc}); the timings may include its writes.")
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def km_box(lat: float, lon: float, km: float) -> tuple[float, float, float, float]:
    dlat = km / 2 / 111.2
    dlon = km / 2 / (111.2 * math.cos(math.radians(lat)))
    return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def screen_box(lat: float, lon: float, zoom: int, width: int, height: int):
    """What a web map of width × height pixels shows around a point at a zoom."""
    scale = 256 * 2**zoom  # pixels around the world
    x = (lon + 180) / 360 * scale
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * scale

    def lat_at(py: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * py / scale))))

    west = (x - width / 2) / scale * 360 - 180
    east = (x + width / 2) / scale * 360 - 180
    return (west, lat_at(y + height / 2), east, lat_at(y - height / 2))


def stats(times_ms: list[float]) -> dict:
    return {
        "p50": statistics.median(times_ms),
        "p95": percentile(times_ms, 0.95),
        "max": max(times_ms),
    }


def time_requests(client, urls: list[str]) -> tuple[dict, float]:
    from reports.map import map_changed

    for url in urls[: min(WARMUP, len(urls) // 5)]:
        client.get(url)
    times, features = [], []
    for url in urls:
        # Every answer is the first, uncached one: the endpoint caches clustered
        # answers under a version that this bumps (untimed), as a change would.
        map_changed()
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.content!r}")
        body = json.loads(response.content)
        features.append(len(body.get("features", ())))
    return stats(times), statistics.mean(features)


def api_url(bbox, zoom: int, **filters: str) -> str:
    from urllib.parse import urlencode

    query = {"bbox": ",".join(f"{v:.6f}" for v in bbox), "zoom": zoom, **filters}
    return "/api/v1/reports?" + urlencode(query)


def index_used(queryset) -> str:
    plan = queryset.explain()
    names = re.findall(r"(?:INDEX|Scan using|Bitmap Index Scan on) (\w+)", plan)
    scans = re.findall(r"Seq Scan|SCAN reports_report", plan)
    return ", ".join(dict.fromkeys(names)) or (scans and "none (table scan)") or "?"


def compare_indexes(boxes: dict[str, list]) -> list[dict]:
    from reports import map as reports_map
    from reports.models import LatBand, Report

    rows = []
    for label, bboxes in boxes.items():
        for name in ("lat, lon", "LatBand(lat), lon, lat"):

            def query(bbox, name=name):
                west, south, east, north = bbox
                reports = Report.objects.public().filter(
                    lon__range=(west, east), lat__range=(south, north)
                )
                if name != "lat, lon":
                    first = reports_map.lat_band_for(south)
                    last = reports_map.lat_band_for(north)
                    reports = reports.alias(band=LatBand("lat")).filter(
                        band__in=range(first, last + 1)
                    )
                return reports.order_by("-created_at", "-pk").values_list(
                    "pk", flat=True
                )[: reports_map.STREET_LIMIT + 1]

            for bbox in bboxes[:WARMUP]:
                list(query(bbox))
            times = []
            for bbox in bboxes:
                start = time.perf_counter()
                list(query(bbox))
                times.append((time.perf_counter() - start) * 1000)
            rows.append(
                {
                    "box": label,
                    "filter": f"`{name}`",
                    "index": f"`{index_used(query(bboxes[0]))}`",
                    **stats(times),
                }
            )
    return rows


def build(args: argparse.Namespace) -> dict:
    import numpy as np
    from django.db import connection

    db = connection.vendor
    start = time.perf_counter()
    generate(args.reports, args.seed, towns(np.random.default_rng(args.seed)))
    generated_s = time.perf_counter() - start
    log(f"{db}: {args.reports:,} reports written in {generated_s:.0f} s")
    return {"generated_s": generated_s}


def measure(args: argparse.Namespace) -> dict:
    import gc
    import random

    import django
    import numpy as np
    import psycopg
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from municipalities.models import Category
    from reports import map as reports_map
    from reports.models import Report

    runs = SMOKE_RUNS if args.smoke else RUNS
    rng = random.Random(args.seed)
    db = "SQLite" if connection.vendor == "sqlite" else "PostgreSQL"
    places = towns(np.random.default_rng(args.seed))
    stockholm = CITIES[0]
    dense = [
        km_box(
            stockholm[2] + rng.uniform(-0.009, 0.009),
            stockholm[3] + rng.uniform(-0.018, 0.018),
            1.0,
        )
        for _ in range(runs["street"])
    ]
    anywhere = [
        km_box(lat + rng.gauss(0, 0.01), lon + rng.gauss(0, 0.02), 1.0)
        for _, _, lat, lon, _ in rng.choices(places, k=runs["street"])
    ]
    mid = [
        screen_box(
            city[2] + rng.uniform(-0.05, 0.05),
            city[3] + rng.uniform(-0.1, 0.1),
            10,
            1280,
            800,
        )
        for city in rng.choices(CITIES, k=runs["mid"])
    ]
    wide_screens = [
        screen_box(
            stockholm[2] + rng.uniform(-0.01, 0.01),
            stockholm[3] + rng.uniform(-0.02, 0.02),
            14,
            1920,
            1080,
        )
        for _ in range(runs["mid"])
    ]
    top = Category.objects.annotate(n=Count("reports")).order_by("-n").first()
    shipped = reports_map.STREET_LIMIT
    # (name, URLs, whether the target applies, street limit for this case)
    cases = [
        (
            "Baseline: the minimal view (trivial JSON)",
            ["/bench/ok"] * runs["baseline"],
            False,
            None,
        ),
        (
            "Zoom 16, 1 km × 1 km, central Stockholm (densest)",
            [api_url(b, 16) for b in dense],
            True,
            None,
        ),
        (
            f"Zoom 16, same boxes, category={top.slug} (the largest)",
            [api_url(b, 16, category=top.slug) for b in dense],
            True,
            None,
        ),
        (
            "Zoom 16, same boxes, status=open",
            [api_url(b, 16, status="open") for b in dense],
            True,
            None,
        ),
        (
            "Zoom 16, 1 km × 1 km in a random kommun's town",
            [api_url(b, 16) for b in anywhere],
            True,
            None,
        ),
        (
            "Zoom 14, 1920 × 1080 px, central Stockholm (about 9 × 5 km)",
            [api_url(b, 14) for b in wide_screens],
            False,
            None,
        ),
        (
            "Zoom 10, 1280 × 800 px around a large town (clusters)",
            [api_url(b, 10) for b in mid],
            False,
            None,
        ),
        (
            "Zoom 5, all of Sweden (clusters)",
            [api_url(SWEDEN, 5)] * runs["country"],
            False,
            None,
        ),
        (
            "For comparison: zoom 16, central Stockholm, street limit 500",
            [api_url(b, 16) for b in dense],
            False,
            500,
        ),
    ]
    client = Client(HTTP_HOST="localhost")
    measured = []
    for name, urls, target, limit in cases:
        reports_map.STREET_LIMIT = limit or shipped
        gc.collect()
        timing, features = time_requests(client, urls)
        measured.append(
            {
                "name": name,
                "runs": len(urls),
                "features": f"{features:,.0f}" if urls[0].startswith("/api") else "—",
                "target": target,
                **timing,
            }
        )
        log(f"{db}: {name}: p50 {timing['p50']:.2f} p95 {timing['p95']:.2f} ms")
    reports_map.STREET_LIMIT = shipped

    in_view = [
        Report.objects.public()
        .filter(lon__range=(b[0], b[2]), lat__range=(b[1], b[3]))
        .count()
        for b in dense[:20]
    ]
    wide_boxes = [
        km_box(stockholm[2] + rng.uniform(-0.02, 0.02), stockholm[3], 5.0)
        for _ in range(runs["wide"])
    ]
    indexes = compare_indexes(
        {
            "1 km, central Stockholm": dense[: runs["index"]],
            "5 km, Stockholm": wide_boxes,
        }
    )
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
    crowd = statistics.mean(in_view)
    note = (
        f"{db_version}: the {args.reports:,} reports took {{generated_s:.0f}} s to "
        f"write; a central Stockholm box holds {crowd:,.0f} public reports on "
        "average"
    )
    limit = reports_map.STREET_LIMIT
    note += f", more than the {limit} shown." if crowd > limit else "."
    if connection.vendor == "postgresql":
        note += (
            " Server settings as installed (shared_buffers 128MB); `VACUUM "
            "ANALYZE` after the load, as autovacuum would do."
        )
    else:
        note += " No `ANALYZE` (Django does not run it); default page cache."
    return {
        "db": db_version,
        "street_limit": shipped,
        "versions": versions,
        "cases": measured,
        "indexes": indexes,
        "notes": [note],
    }


if __name__ == "__main__":
    main()
