"""Shared by the benchmarks: the machine's description and the results file."""

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
