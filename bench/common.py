"""Shared by the benchmarks: the machine's description, CPU accounting from
/proc, and the results file."""

from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks.md"


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
