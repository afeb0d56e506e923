"""Parquet exports of the BI marts, replaced atomically.

In a dbt build the files go to the build workspace's ``exports/`` folder (see
:func:`export_folders`); the publish step moves them into the published build,
where readers find them through the ``export_path`` link (:mod:`segmentation.serving.publish`).

Each table is written to a temporary file in the export folder, then moved over the old
file with ``os.replace``, which is atomic on one file system: a reader (a BI tool, DuckDB,
pandas) sees the old file or the new one, never a half-written one, and a failed export
leaves the old file as it was.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from segmentation.log import logger

EXPORTS_SCHEMA = pa.schema(
    [
        ("table_name", pa.string()),
        ("path", pa.string()),
        ("row_count", pa.int64()),
        ("file_bytes", pa.int64()),
        ("exported_at", pa.timestamp("us")),
    ]
)


def export_parquet(relation: Any, path: Path) -> tuple[int, int]:
    """Write a DuckDB relation to ``path`` as Parquet (zstd), atomically; its rows and bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        relation.write_parquet(str(temporary), compression="zstd")
        row_count = pq.ParquetFile(temporary).metadata.num_rows
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return row_count, path.stat().st_size


def export_marts(
    relations: Mapping[str, Any], folder: str | Path, published_folder: str | Path | None = None
) -> pa.Table:
    """Export every relation to ``folder/<name>.parquet``; one row per file written.

    ``published_folder`` is where readers will find the files once the build is published
    (the paths listed); by default ``folder`` itself."""
    folder = Path(folder).resolve()
    published_folder = Path(os.path.abspath(published_folder)) if published_folder is not None else folder
    rows = []
    for name, relation in relations.items():
        path = folder / f"{name}.parquet"
        row_count, file_bytes = export_parquet(relation, path)
        rows.append(
            {
                "table_name": name,
                "path": str(published_folder / path.name),
                "row_count": row_count,
                "file_bytes": file_bytes,
                "exported_at": datetime.now(UTC).replace(tzinfo=None),
            }
        )
        logger.info(f"exported {name}: {row_count:,} rows to {path}")
    return pa.Table.from_pylist(rows, schema=EXPORTS_SCHEMA)


def export_folders(connection: Any, export_path: str | os.PathLike | None) -> tuple[Path, Path]:
    """Where a build writes its exports and where readers will find them, for the DuckDB
    database ``connection`` is in.

    In a build workspace: the workspace's exports folder (emptied for this build), and
    var ``export_path`` or, when it is empty, the warehouse's own folder beside it
    (:attr:`~segmentation.serving.publish.BuildArea.default_exports`). Elsewhere (a plain
    DuckDB file): ``export_path`` (default ``exports``) for both."""
    from segmentation.serving.publish import BuildArea, PublishError

    ((database,),) = connection.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()
    try:
        area = BuildArea.of_workspace(database)
    except PublishError:
        folder = Path(str(export_path or "").strip() or "exports")
        return folder, folder
    shutil.rmtree(area.staged_exports, ignore_errors=True)
    area.staged_exports.mkdir(parents=True)
    return area.staged_exports, area.exports_folder(export_path)
