"""The package layout: engines, scoring, fit, evaluation and serving, imports going one way.

A newcomer reads from the folder names where fitting ends and scoring begins; this test
keeps it true. Every import of a ``segmentation`` module (at module level or inside a
function) counts. The engines implement one protocol and never import each other; the
dbt Python models import only their entry points (``segmentation.dbt_models``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "segmentation"
SHARED = {
    "segmentation.columns",
    "segmentation.vars",
    "segmentation.params",
    "segmentation.tables",
    "segmentation.log",
    "segmentation.sampling",
}
#: side -> the sides it may import (besides itself and the shared modules).
ALLOWED = {
    "shared": set(),
    "engines": set(),
    "scoring": {"engines"},
    "fit": {"engines", "scoring"},
    "evaluation": {"engines", "scoring", "fit"},
    "serving": set(),
}
#: The modules that wire the sides together (nothing imports them but the models and tests).
ENTRY_POINTS = {"segmentation.dbt_models"}
RUNNERS = {"segmentation", "segmentation.generator", "segmentation.planted", "segmentation.spark_build"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def side(module: str) -> str | None:
    if module in SHARED:
        return "shared"
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in ALLOWED:
        return parts[1]
    return None  # the package itself and the runners (generator, planted, spark_build)


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
    loose = sorted(module for module in MODULES if side(module) is None and module not in RUNNERS | ENTRY_POINTS)
    sides = [f"segmentation.{name}" for name in ALLOWED if name != "shared"]
    assert not loose, f"{loose}: put each module in one of {sides}, or among the shared modules {sorted(SHARED)}"


def test_nothing_in_the_package_imports_the_entry_points():
    importers = sorted(name for name, path in MODULES.items() if imported_modules(path) & ENTRY_POINTS)
    assert not importers, f"{importers} import {sorted(ENTRY_POINTS)}: the entry points only wire the sides together"


ENGINE_MODULES = sorted(
    name for name in MODULES if name.startswith("segmentation.engines.") and name != "segmentation.engines.protocol"
)


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_each_engine_implements_the_protocol_and_imports_no_other_engine(module):
    imported = imported_modules(MODULES[module])
    assert "segmentation.engines.protocol" in imported, f"{module} must implement segmentation.engines.protocol"
    others = sorted(name for name in imported & set(ENGINE_MODULES) if name != module)
    assert not others, f"{module} imports the engines {others}: engines share only the protocol"


PYTHON_MODELS = sorted((REPO / "python_models").rglob("*.py"))


@pytest.mark.parametrize("path", PYTHON_MODELS, ids=lambda path: path.stem)
def test_python_models_import_only_their_entry_point(path):
    """A dbt Python model reads its refs and config and calls one entry point: the logic
    lives in the package, where pytest reaches it, and no model branches on the engine."""
    tree = ast.parse(path.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert imported == {"segmentation.dbt_models"}, f"{path.name} imports {sorted(imported)}"
    called = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if isinstance(node.func.value, ast.Name) and node.func.value.id == "dbt_models"
    }
    assert called == {path.stem}, f"{path.name} must call dbt_models.{path.stem}, calls {sorted(called)}"


UNIT_TESTS = sorted((REPO / "tests" / "unit").glob("test_*.py"))
DBT_RUNNERS = {"run_dbt", "build_ok", "dbt_invocation", "DBT"}


@pytest.mark.parametrize("path", UNIT_TESTS, ids=lambda path: path.stem)
def test_unit_tests_run_no_dbt(path):
    """tests/unit is the fast run: a test that builds with dbt belongs in tests/integration."""
    tree = ast.parse(path.read_text())
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} & DBT_RUNNERS
    assert not used, f"{path.name} uses {sorted(used)}: move the test to tests/integration/"
