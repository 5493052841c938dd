"""The house is built one way: infrastructure ← municipalities ← reports and
staffauth ← casehub ← stats ← cms and workspace ← config. Read from the source: no import runs upward or
sideways between apps, no import circle exists between or inside them, and an
import placed inside a function says why in a comment."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {
    "infra": 0,
    "municipalities": 1,
    "reports": 2,
    "cms": 5,
    "staffauth": 2,
    "casehub": 3,
    "stats": 4,
    "citizens": 4,
    "workspace": 5,
    "config": 6,
}


def modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).with_suffix("")
            if "migrations" in relative.parts:
                continue
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = modules()
# Each module's source, parsed once for every test here.
TREES = {
    module: ast.parse(path.read_text(encoding="utf-8"))
    for module, path in MODULES.items()
}


def resolve(module: str, path: Path, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The project modules an import statement names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".")
            if path.name != "__init__.py":
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, base] if base else package)
        # "from x import y" names x.y when y is a module, else x.
        names = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
            for alias in node.names
        ]
    wanted = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name:
            wanted.append(name)
    return wanted


def imports() -> list[tuple[str, str, int, bool]]:
    """(importer, imported, line, at module level) for every project import."""
    found = []
    for module, path in MODULES.items():
        tree = TREES[module]
        top = set(map(id, tree.body))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in resolve(module, path, node):
                    if target != module:
                        found.append((module, target, node.lineno, id(node) in top))
    return found


IMPORTS = imports()


def app(module: str) -> str:
    return module.split(".")[0]


def test_no_app_imports_upward_or_sideways():
    wrong = [
        f"{importer}:{line} imports {imported}"
        for importer, imported, line, _top in IMPORTS
        if app(importer) != app(imported)
        and LAYERS[app(imported)] >= LAYERS[app(importer)]
    ]
    assert wrong == []


# Never deployed: what only tests and benchmarks use.
NOT_SHIPPED = ("devkit", "tests", "bench")


def test_no_app_imports_what_is_never_deployed():
    wrong = []
    for module, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            wrong += [
                f"{module}:{node.lineno} imports {name}"
                for name in names
                if name.split(".")[0] in NOT_SHIPPED
            ]
    assert wrong == []


def test_no_import_circle_between_or_inside_apps():
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for importer, imported, _line, _top in IMPORTS:
        graph[importer].add(imported)
    # Tarjan's strongly connected components: a component of more than one
    # module is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    assert circles == []


def late_imports_without_a_reason() -> list[str]:
    """Imports inside a function or method without a comment on their line or
    above their group of imports."""
    found = []
    for module, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = TREES[module]
        functions = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        late = {
            id(inner): inner
            for function in functions
            for inner in ast.walk(function)
            if isinstance(inner, ast.Import | ast.ImportFrom)
        }
        for node in late.values():
            line = lines[node.lineno - 1]
            # The comment may stand above a group of imports (or a blank line).
            above = node.lineno - 2
            while above >= 0 and (
                not lines[above].strip()
                or lines[above].strip().startswith(("import ", "from "))
            ):
                above -= 1
            reason = above >= 0 and lines[above].strip().startswith("#")
            if "#" not in line and not reason:
                found.append(f"{module}:{node.lineno}: {line.strip()}")
    return found


def test_an_import_inside_a_function_says_why():
    assert late_imports_without_a_reason() == []


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_every_layer_is_read(package):
    # The checks above are only as good as the modules they see.
    assert any(
        module == package or module.startswith(f"{package}.") for module in MODULES
    )
