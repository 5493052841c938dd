"""The benchmarks (bench/): they stand apart from the tests, and none rots unseen.

Each command runs in its smoke mode (a small size; nothing written to
docs/benchmarks.md) in a subprocess, under the profile of this run where the
benchmark has a scaled side: PostgreSQL (and Redis) when DATABASE_URL is set,
else SQLite. The instances they make are copies of this session's migrated demo
template (devkit.instance.shared_templates), not migrated anew. These tests check
that a command ran and printed its figures beside their baselines, never how fast
it was: performance is for the benchmarks themselves.
"""

from __future__ import annotations

import ast
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.instance import profile_env, shared_templates

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
DOC = REPO / "docs" / "benchmarks.md"
SCALED = bool(os.environ.get("DATABASE_URL"))
# The packages of this repository, and those a benchmark may import.
FIRST_PARTY = {p.name for p in REPO.iterdir() if (p / "__init__.py").is_file()}
ALLOWED = FIRST_PARTY - {"tests"}
# An import statement in a script held in a string (run by ``manage.py shell``).
SCRIPT_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import\b|import[ \t]+([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*)[ \t]*$)",
    re.MULTILINE,
)
NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?|nan|inf"
RESULT = re.compile(
    rf"^RESULT (?P<name>.+): (?P<figure>{NUMBER}) (?P<unit>.+?), "
    rf"baseline (?P<baseline>{NUMBER}) (?P=unit), ratio (?P<ratio>{NUMBER})$",
    re.MULTILINE,
)


def imported(source: str) -> set[str]:
    """Every module a Python source imports: import statements anywhere (in
    functions too, relative ones with their dots), ``import_module`` and
    ``__import__`` calls with a literal name, and the import statements of
    scripts held in its strings."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            first = node.args[0] if node.args else None
            if name in ("import_module", "__import__") and isinstance(
                first, ast.Constant
            ):
                found.add(str(first.value))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for match in SCRIPT_IMPORT.finditer(node.value):
                if match.group(1):
                    found.add(match.group(1))
                else:
                    found.update(n.strip() for n in match.group(2).split(","))
    return found


def forbidden(modules: set[str]) -> set[str]:
    """The modules a benchmark must not import: relative ones (the benchmarks
    run as scripts), and this repository's packages other than the allowed."""
    return {
        m
        for m in modules
        if m.startswith(".") or (m.split(".")[0] in FIRST_PARTY - ALLOWED)
    }


def test_the_import_check_sees_every_kind_of_import():
    source = '''
import json, tests.support
from . import sibling
def f():
    from tests.support.casehub import connect
    importlib.import_module("tests.conftest")
SCRIPT = """
from reports.models import Report
from tests.support.instance import signal_post
import tests
"""
'''
    assert forbidden(imported(source)) == {
        "tests.support",
        ".",
        "tests.support.casehub",
        "tests.conftest",
        "tests.support.instance",
        "tests",
    }
    assert "reports.models" in imported(source)


@pytest.mark.parametrize("path", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_a_benchmark_imports_nothing_from_the_tests(path):
    """bench/ may import the apps, devkit and bench.common, never tests/."""
    modules = imported(path.read_text())
    assert not forbidden(modules), f"{path.name} imports {forbidden(modules)}"
    if path.name != "common.py":
        assert "bench.common" in modules  # the check sees its imports at all


@pytest.fixture(scope="module")
def bench_env(tmp_path_factory) -> dict[str, str]:
    """This process's environment for a benchmark, naming this session's demo
    template of the profile so that its instances are copied from it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    with profile_env(tmp_path_factory.mktemp("bench") / "var") as made:
        env.update(shared_templates(made))
    return env


def db_side() -> list[str]:
    return ["--db", "postgres" if SCALED else "sqlite"]


def profile_side() -> list[str]:
    return ["--profile", "scaled" if SCALED else "embedded"]


# Each command's smoke run: its arguments, and how many figures it prints at
# least (each beside its baseline).
COMMANDS = {
    "photo": ([], 5),
    "locate": ([], 2),
    "map": (db_side(), 8),
    "inbox": (db_side(), 12),
    "stats": (db_side(), 7),
    "submit": (db_side(), 2),
    "deliveries": (profile_side(), 2),
    "live": (profile_side(), 4),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COMMANDS))
def test_smoke(name, bench_env):
    arguments, least = COMMANDS[name]
    doc_before = DOC.read_bytes()
    done = subprocess.run(
        [sys.executable, str(BENCH / f"{name}.py"), "--smoke", *arguments],
        cwd=REPO,
        env=bench_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    found = list(RESULT.finditer(done.stdout))
    assert len(found) >= least, done.stdout[-6000:]
    for match in found:
        figure, baseline = float(match["figure"]), float(match["baseline"])
        assert math.isfinite(figure) and figure > 0, match[0]
        assert math.isfinite(baseline) and baseline > 0, match[0]
        assert float(match["ratio"]) == pytest.approx(figure / baseline, rel=0.01)
    assert DOC.read_bytes() == doc_before, "a smoke run wrote to the results file"
