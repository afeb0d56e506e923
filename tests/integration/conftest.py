"""Integration tests: real dbt builds into temporary DuckDB files (and a local Spark).

Every test here is marked ``dbt`` (also when its file forgets to), so ``pytest -m "not
dbt"`` is the fast unit run of tests/unit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.dbt)
