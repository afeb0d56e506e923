"""A fingerprint of every table of a published warehouse, to prove a change kept behaviour.

A refactoring must leave the segments, the registry's arrays and the marts exactly as they
were. This script reads every table and view of a warehouse (read-only), sorts its rows,
and hashes each column's values, leaving out the columns that differ between two builds
of the same data by design (wall-clock times, build ids, the publish log). Two builds of
the same data and vars before and after a change must print the same fingerprints:

    python benchmarks/build_fingerprint.py warehouse/segmentation.duckdb > before.json
    # ... change the code, build again into another file ...
    python benchmarks/build_fingerprint.py other.duckdb --compare before.json

With ``--compare`` it lists every table and column that differs and exits 1 when any does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import duckdb

#: Tables whose content is about the build, not the data: left out.
VOLATILE_TABLES = {"publish_log"}
#: Columns that hold a wall-clock time, a measured duration, a build's own path or the
#: bytes of a file that records its writing time: left out.
VOLATILE_COLUMNS = {
    "built_at",
    "fitted_at",
    "fit_seconds",
    "build_date",
    "published_at",
    "build_id",
    "exported_at",
    "path",
    "file_bytes",
}
#: Significant digits floats are compared to: sums that DuckDB adds up on several
#: threads differ in the last bits from one run to the next.
DIGITS = 10


def normalised(value: object) -> object:
    """``value`` with every float (also inside lists and structs) to :data:`DIGITS` digits."""
    if isinstance(value, float):
        return float(f"{value:.{DIGITS}g}")
    if isinstance(value, list | tuple):
        return [normalised(item) for item in value]
    if isinstance(value, dict):
        return {key: normalised(item) for key, item in value.items()}
    return value


def column_hashes(connection: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """A hash of each column's values (rows in a fixed order), floats to :data:`DIGITS` digits."""
    described = connection.sql(f'describe select * from "{table}"').fetchall()
    columns = [name for name, *_ in described if name not in VOLATILE_COLUMNS]
    if not columns:
        return {}
    selected = ", ".join(f'"{name}"' for name in columns)
    rows = sorted(
        (normalised(list(row)) for row in connection.sql(f'select {selected} from "{table}"').fetchall()),
        key=repr,
    )
    hashes = {}
    for index, name in enumerate(columns):
        digest = hashlib.sha256()
        for row in rows:
            digest.update(repr(row[index]).encode())
        hashes[name] = digest.hexdigest()[:16]
    hashes["__rows__"] = str(len(rows))
    return hashes


def fingerprint(database: Path) -> dict[str, dict[str, str]]:
    """Every table and view of ``database`` but the volatile ones: column -> hash."""
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = [
            name
            for (name,) in connection.sql(
                "select table_name from information_schema.tables where table_schema = 'main' order by 1"
            ).fetchall()
            if name not in VOLATILE_TABLES
        ]
        return {table: column_hashes(connection, table) for table in tables}


def differences(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]) -> list[str]:
    """What differs between two fingerprints, one line each."""
    lines = []
    for table in sorted(set(before) | set(after)):
        if table not in after:
            lines.append(f"{table}: gone")
        elif table not in before:
            lines.append(f"{table}: new")
        else:
            for column in sorted(set(before[table]) | set(after[table])):
                if before[table].get(column) != after[table].get(column):
                    lines.append(f"{table}.{column}: {before[table].get(column)} -> {after[table].get(column)}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", type=Path, help="the published warehouse file")
    parser.add_argument("--compare", type=Path, help="a fingerprint JSON written before; exit 1 on any difference")
    args = parser.parse_args()
    found = fingerprint(args.database)
    if args.compare is None:
        json.dump(found, sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    lines = differences(json.loads(args.compare.read_text()), found)
    print("\n".join(lines) if lines else f"identical: {len(found)} tables")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
