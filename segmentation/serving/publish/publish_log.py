"""The publish log: ``publish_log.jsonl`` beside the builds (every publish and rollback,
one JSON object a line) and the ``publish_log`` table every published file carries."""

from __future__ import annotations

import contextlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from segmentation.serving.publish.area import ENTRY_FILE, BuildArea

# The DuckDB table every published build carries: its own publish and the earlier ones.
PUBLISH_LOG_TABLE = "publish_log"


def now() -> datetime:
    """The time of a publish, a rollback or a lock: UTC, without a time zone."""
    return datetime.now(UTC).replace(tzinfo=None)


def now_text() -> str:
    return now().isoformat(timespec="microseconds")


def read_log(area: BuildArea) -> list[dict]:
    """Every publish and rollback, oldest first (a torn last line is skipped)."""
    if not area.log.exists():
        return []
    rows = []
    for line in area.log.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            rows.append(json.loads(line))
    return rows


def reconcile_log(area: BuildArea) -> None:
    """Log the current build if a kill came between its switch and its log line."""
    current = area.current_build_id()
    entry_file = area.build_folder(current) / ENTRY_FILE if current else None
    if entry_file is None or not entry_file.exists():
        return
    if not any(row.get("build_id") == current and row.get("action") == "publish" for row in read_log(area)):
        append_log(area, json.loads(entry_file.read_text()))


def append_log(area: BuildArea, row: dict) -> None:
    with open(area.log, "a") as file:
        file.write(json.dumps(row) + "\n")
        file.flush()
        os.fsync(file.fileno())


def publish_entry(connection, build_id: str, previous: str | None, exports: Path) -> dict:
    """The log entry of the build whose new file ``connection`` has open: the row count of
    each table (not of the views, which hold no rows: counting customer_segment_reasons
    would explain every customer, most of the publish step at ten million)."""
    tables = {
        name: connection.execute(f'select count(*) from "{name}"').fetchone()[0]
        for (name,) in connection.execute(
            "select table_name from information_schema.tables"
            " where table_schema = 'main' and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
    }
    model_version = customers = None
    if "dim_customers" in tables:
        model_version, customers = connection.execute(
            "select max(model_version), count(*) from dim_customers"
        ).fetchone()
    return {
        "action": "publish",
        "build_id": build_id,
        "published_at": now_text(),
        "model_version": model_version,
        "customers": customers or 0,
        "previous_build_id": previous,
        "tables": tables,
        "exports": sorted(path.name for path in exports.glob("*.parquet")),
    }


def write_publish_log_table(connection, rows: list[dict]) -> None:
    """The ``publish_log`` table of a new published file: every publish up to this one."""
    connection.execute(
        f"""
        create or replace table {PUBLISH_LOG_TABLE} (
            build_id varchar primary key,
            published_at timestamp not null,
            model_version integer,
            customers bigint not null,
            previous_build_id varchar,
            tables_published varchar not null,
            exports_published varchar not null
        )
        """
    )
    seen = set()
    for row in rows:
        if row["build_id"] in seen:
            continue
        seen.add(row["build_id"])
        connection.execute(
            f"insert into {PUBLISH_LOG_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
            [
                row["build_id"],
                row["published_at"],
                row.get("model_version"),
                row.get("customers") or 0,
                row.get("previous_build_id"),
                json.dumps(row.get("tables", {})),
                json.dumps(row.get("exports", [])),
            ],
        )
    connection.execute("checkpoint")


def published_lineage(area: BuildArea) -> list[str]:
    """The builds whose tables readers see, newest first: the current build, the build it
    replaced, the one that build replaced, ... (a build rolled back from, or one that never
    published, is not among them). ``customer_segment_history`` keeps only their rows."""
    reconcile_log(area)
    publishes = (row for row in read_log(area) if row.get("action") == "publish")
    previous_of = {row["build_id"]: row.get("previous_build_id") for row in publishes}
    lineage: list[str] = []
    build = area.current_build_id()
    while build and build not in lineage:
        lineage.append(build)
        build = previous_of.get(build)
    return lineage
