"""The package layout: fit, scoring and serving, with imports going one way.

A newcomer reads from the folder names where fitting ends and scoring begins; this test
keeps it true. Every import of a ``segmentation`` module (at module level or inside a
function) counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "segmentation"
SHARED = {"segmentation.columns", "segmentation.params", "segmentation.relations", "segmentation.log"}
#: side -> the sides it may import (besides itself and the shared modules).
ALLOWED = {"shared": set(), "scoring": set(), "fit": {"scoring"}, "serving": set()}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def side(module: str) -> str | None:
    if module in SHARED:
        return "shared"
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in ALLOWED:
        return parts[1]
    return None  # the package itself and the runners (generator, spark_build)


def imported_modules(path: Path) -> set[str]:
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("segmentation"):
            imported.add(node.module)
            submodules = (f"{node.module}.{alias.name}" for alias in node.names)
            imported.update(name for name in submodules if side(name))
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names if alias.name.startswith("segmentation"))
    return imported


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_one_way(module):
    mine = side(module)
    if mine is None:
        return
    wrong = sorted(
        other
        for other in imported_modules(MODULES[module])
        if side(other) not in {None, "shared", mine, *ALLOWED[mine]} or (mine == "shared" and side(other) != "shared")
    )
    assert not wrong, f"{module} ({mine}) imports {wrong}: {mine} may import only {sorted(ALLOWED[mine]) or 'no side'}"


def test_no_import_cycle():
    graph = {name: {other for other in imported_modules(path) if other in MODULES} for name, path in MODULES.items()}
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for other in sorted(graph[module]):
            if state.get(other) == "open":
                cycle = [*trail[trail.index(other) :], other] if other in trail else [module, other]
                pytest.fail(f"import cycle: {' -> '.join(cycle)}")
            if other not in state:
                visit(other, [*trail, other])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_every_module_is_on_a_side_or_a_runner():
    runners = {"segmentation", "segmentation.generator", "segmentation.spark_build"}
    loose = sorted(module for module in MODULES if side(module) is None and module not in runners)
    sides = [f"segmentation.{name}" for name in ALLOWED if name != "shared"]
    assert not loose, f"{loose}: put each module in one of {sides}, or among the shared modules {sorted(SHARED)}"
