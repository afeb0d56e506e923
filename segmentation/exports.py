"""Parquet exports of the BI marts, replaced atomically.

Each table is written to a temporary file in the export folder, then moved over the old
file with ``os.replace``, which is atomic on one file system: a reader (a BI tool, DuckDB,
pandas) sees the old file or the new one, never a half-written one, and a failed export
leaves the old file as it was.
"""

from __future__ import annotations

import os
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


def export_marts(relations: Mapping[str, Any], folder: str | Path) -> pa.Table:
    """Export every relation to ``folder/<name>.parquet``; one row per file written."""
    folder = Path(folder).resolve()
    rows = []
    for name, relation in relations.items():
        path = folder / f"{name}.parquet"
        row_count, file_bytes = export_parquet(relation, path)
        rows.append(
            {
                "table_name": name,
                "path": str(path),
                "row_count": row_count,
                "file_bytes": file_bytes,
                "exported_at": datetime.now(UTC).replace(tzinfo=None),
            }
        )
        logger.info(f"exported {name}: {row_count:,} rows to {path}")
    return pa.Table.from_pylist(rows, schema=EXPORTS_SCHEMA)
