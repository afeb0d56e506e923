"""Run one SQL query against the warehouse, read-only, and print the result.

    python -m segmentation.serving.query "select * from dim_segments"

The warehouse is the published one, ``$DBT_DUCKDB_PATH`` or
``warehouse/segmentation.duckdb`` (see :mod:`segmentation.serving.publish`), opened read-only: it
never changes the warehouse and never blocks a build, which publishes a new file beside
it. ``--workspace`` reads the build workspace instead (the tables of the last build, also
of one that failed, to see why), when no dbt command is using it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import pandas as pd

from segmentation.serving.publish import DEFAULT_WAREHOUSE, BuildArea, warehouse_path


def run_query(sql: str, database: Path | None = None) -> pd.DataFrame:
    """The result of ``sql`` on the warehouse, opened read-only."""
    database = database or warehouse_path()
    if not database.exists():
        raise FileNotFoundError(f"no warehouse at {database}: build it first with 'make run' (or 'dbt build')")
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.sql(sql).df()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one read-only SQL query against the warehouse.")
    parser.add_argument("sql", help='the query, e.g. "select * from dim_segments"')
    parser.add_argument("--database", type=Path, help=f"DuckDB file (default: $DBT_DUCKDB_PATH or {DEFAULT_WAREHOUSE})")
    parser.add_argument(
        "--workspace", action="store_true", help="query the build workspace of that warehouse (the last build's tables)"
    )
    args = parser.parse_args(argv)
    database = args.database or warehouse_path()
    if args.workspace:
        database = BuildArea.of_published(database).workspace
    try:
        result = run_query(args.sql, database)
    except (FileNotFoundError, duckdb.Error) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    with pd.option_context("display.max_columns", None, "display.width", 200):
        print(result.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
