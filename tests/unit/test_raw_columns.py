"""One list of raw columns: the columns of source raw.customers
(models/staging/_staging__sources.yml). The dbt macros read it from the graph
(raw_customer_columns, raw_numeric_columns); what needs the list outside that graph keeps
a copy, checked here: RAW_COLUMNS in segmentation/columns.py (the generator and the tests),
the override of the stg_customers unit test (whose graph has no sources) and the required
columns listed in docs/parameters.md."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from segmentation.columns import RAW_COLUMNS
from tests.conftest import REPO_ROOT

SOURCES_YML = Path("models/staging/_staging__sources.yml")
UNIT_TESTS_YML = Path("models/staging/_staging__unit_tests.yml")
PARAMETERS_MD = Path("docs/parameters.md")


def source_table() -> dict:
    """The yml of source raw.customers."""
    document = yaml.safe_load((REPO_ROOT / SOURCES_YML).read_text())
    (raw,) = [source for source in document["sources"] if source["name"] == "raw"]
    (customers,) = [table for table in raw["tables"] if table["name"] == "customers"]
    return customers


def source_columns() -> list[str]:
    """The columns declared on source raw.customers, in order."""
    return [column["name"] for column in source_table()["columns"]]


def test_the_source_its_table_and_each_raw_column_are_described_once():
    document = yaml.safe_load((REPO_ROOT / SOURCES_YML).read_text())
    assert all(source.get("description") for source in document["sources"])
    assert source_table().get("description")
    columns = source_table()["columns"]
    names = [column["name"] for column in columns]
    assert len(names) == len(set(names)) == 18, names
    assert [column for column in columns if not column.get("description")] == []


def test_python_raw_columns_are_the_sources_columns():
    assert list(RAW_COLUMNS) == source_columns(), (
        f"RAW_COLUMNS in segmentation/columns.py {list(RAW_COLUMNS)} differs from the columns of source "
        f"raw.customers in {SOURCES_YML} {source_columns()}: the source is the one list; make RAW_COLUMNS "
        "the same names in the same order."
    )


def test_the_unit_tests_column_override_is_the_sources_columns():
    document = yaml.safe_load((REPO_ROOT / UNIT_TESTS_YML).read_text())
    overrides = [
        (test["name"], test["overrides"]["macros"]["raw_customer_columns"])
        for test in document["unit_tests"]
        if "raw_customer_columns" in (test.get("overrides") or {}).get("macros", {})
    ]
    assert overrides, f"no unit test in {UNIT_TESTS_YML} overrides raw_customer_columns"
    expected = [name.lower() for name in source_columns()]
    for name, columns in overrides:
        assert columns == expected, (
            f"unit test {name} in {UNIT_TESTS_YML} overrides raw_customer_columns with {columns}, but the "
            f"columns of source raw.customers in {SOURCES_YML} are {expected} (lower-case): make them the same."
        )


def test_the_required_columns_in_the_docs_are_the_sources_columns():
    text = (REPO_ROOT / PARAMETERS_MD).read_text()
    listed = re.search(r"Required columns: `([^`]*)`", text)
    assert listed, f"{PARAMETERS_MD} has no 'Required columns: `...`' list"
    columns = [name.strip() for name in listed.group(1).split(",")]
    assert columns == source_columns(), (
        f"{PARAMETERS_MD} lists the required columns {columns}, but the columns of source raw.customers in "
        f"{SOURCES_YML} are {source_columns()}: make the list in the docs the same."
    )
