"""Shared by the benchmarks: the machine's description, CPU accounting from
/proc, the results file, the smoke mode and the line each benchmark prints for
every figure beside its baseline.

Every benchmark measures a baseline in the same run as its figure: the same kind
of work done the plainest way on the same machine at the same time (the
minimal view through the same HTTP stack, a plain Pillow decode and resize of
the same photo, ...). Absolute times differ between machines and with the load
on a shared one; the ratio of figure to baseline says how much of a change was
the machine.

``--smoke`` runs a benchmark at a small size in seconds to a minute or two: it
writes nothing to docs/benchmarks.md, and like a full run it exits non-zero when
something is wrong (an error, a wrong answer, a lost or duplicated item), never
because a figure misses its target.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks.md"
# Where the scaled side of a benchmark runs when DATABASE_URL and REDIS_URL do
# not say (a fresh database is made on that server and dropped afterwards).
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL


def add_smoke(parser) -> None:
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a small size, seconds to a minute or two; writes nothing to "
        "docs/benchmarks.md (exits non-zero when something is wrong)",
    )


def ratio(figure: float, baseline: float) -> float:
    """Figure over baseline, in the figure's own unit."""
    return figure / baseline if baseline else float("nan")


def result(name: str, figure: float, baseline: float, unit: str) -> str:
    """Print and return the line of one figure beside its baseline: the same
    shape from every benchmark, so that a smoke run can be checked for both.

    ``RESULT <name>: <figure> <unit>, baseline <baseline> <unit>, ratio <r>``
    where the ratio is figure over baseline.
    """
    line = (
        f"RESULT {name}: {figure:.4g} {unit}, baseline {baseline:.4g} {unit}, "
        f"ratio {ratio(figure, baseline):.3g}"
    )
    print(line, flush=True)
    return line


def finish(problems: list[str]) -> None:
    """Exit non-zero, saying why, when the run found something wrong."""
    if problems:
        for problem in problems:
            print(f"PROBLEM: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(1)


def cpu_description() -> str:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        cpuinfo = []
    models = [
        ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")
    ]
    cpu = models[0] if models else platform.processor() or "unknown CPU"
    return f"{cpu}, {os.cpu_count()} cores"


def today() -> str:
    return datetime.date.today().isoformat()


def load_average() -> float:
    """The machine's 1-minute load average (runnable processes, all cores)."""
    return os.getloadavg()[0]


def load_note(start: float, end: float) -> str:
    return (
        f"1-minute load average {start:.1f} at the start, {end:.1f} at the end "
        f"({os.cpu_count()} cores; other work shares the machine)"
    )


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of the values lie (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def write_section(heading: str, text: str) -> None:
    """Replace this benchmark's ``## `` section of docs/benchmarks.md, keep the rest."""
    old = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    head, *parts = re.split(r"(?m)^(?=## )", old)
    ours = [i for i, p in enumerate(parts) if p.splitlines()[0].strip() == heading]
    if ours:
        parts[ours[0]] = text
        parts = [p for i, p in enumerate(parts) if i not in ours[1:]]
    else:
        parts.append(text)
    DOC.write_text("\n\n".join(s.strip() for s in [head, *parts] if s.strip()) + "\n")


def process_cpu(pid: int) -> float:
    """CPU seconds a process has used (user and system), 0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def named_cpu(prefixes: tuple[str, ...]) -> dict[int, float]:
    """CPU seconds of each process on the machine whose name starts so."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if name.startswith(prefixes):
                found[int(entry.name)] = process_cpu(int(entry.name))
    return found


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def phases_in_instance(script: str, db: str, name: str, options: list[str]) -> dict:
    """Run ``script``'s build phase, then its measure phase, each in a fresh
    subprocess of a throwaway instance with the demo data on ``db`` ("sqlite"
    or "postgres"): measured as a server process would start, without the
    generator's memory behind it. Each phase prints a JSON object last; the
    answer is both merged. ``options`` go to both phases."""
    # Imported here, as the benchmarks do: the children need no instance kit.
    from devkit.instance import instance_setup, profile_env_for

    profile = "scaled" if db == "postgres" else "embedded"
    answers: dict = {}
    with (
        tempfile.TemporaryDirectory(prefix=f"knutpunkt-bench-{name}-") as tmp,
        profile_env_for(profile, Path(tmp) / "var", database_url=database_url()) as env,
    ):
        started = time.perf_counter()
        instance_setup(env, 80)
        print(
            f"{db}: instance with the demo data in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        for phase in ("build", "measure"):
            command = [sys.executable, script, "--profile", db, "--phase", phase]
            done = subprocess.run(  # noqa: S603
                [*command, *options],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
                check=True,
            )
            answers.update(json.loads(done.stdout.strip().splitlines()[-1]))
    return answers


LATENCY_TABLE_HEAD = [
    "| Case | Database | Requests | p50 ms | p95 ms | max ms "
    "| × baseline (p95) | Target |",
    "|---|---|--:|--:|--:|--:|--:|---|",
]


def latency_rows(results: list[dict], target_of) -> list[str]:
    """The table rows of a benchmark of server times: per database, its
    baseline (the first case) and each case with its p95 over the baseline's
    and whether it meets ``target_of(name)`` (no verdict where that is None)."""
    rows = []
    for found in results:
        base = found["cases"][0]["p95"]
        for case in found["cases"]:
            first = case is found["cases"][0]
            target = None if first else target_of(case["name"])
            verdict = (
                "" if target is None else ("pass" if case["p95"] <= target else "fail")
            )
            times = "—" if first else f"{ratio(case['p95'], base):.1f}"
            rows.append(
                f"| {case['name']} | {found['db']} | {case['runs']} "
                f"| {case['p50']:.1f} | {case['p95']:.1f} | {case['max']:.1f} "
                f"| {times} | {verdict} |"
            )
    return rows


def latency_results(label: str, results: list[dict]) -> list[str]:
    """Print each case's p95 beside its database's baseline; the problems the
    measuring reported."""
    problems: list[str] = []
    for found in results:
        base = found["cases"][0]
        for case in found["cases"][1:]:
            result(
                f"{label} {found['db']}, {case['name']}, p95",
                case["p95"],
                base["p95"],
                "ms",
            )
        problems += found["problems"]
    return problems
