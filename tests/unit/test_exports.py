"""Parquet exports: written whole, replaced atomically, never left half-written."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from segmentation.serving.exports import export_marts, export_parquet


def test_export_writes_every_row_and_lists_the_files(tmp_path):
    connection = duckdb.connect()
    relations = {
        "numbers": connection.sql("select range as n, 'C' || range as customer_id from range(1000)"),
        "empty": connection.sql("select 1 as n where false"),
    }
    listing = export_marts(relations, tmp_path / "exports").to_pandas().set_index("table_name")
    assert listing.loc["numbers", "row_count"] == 1000 and listing.loc["empty", "row_count"] == 0
    frame = pd.read_parquet(listing.loc["numbers", "path"])
    assert frame["n"].tolist() == list(range(1000))
    assert sorted(path.name for path in (tmp_path / "exports").iterdir()) == ["empty.parquet", "numbers.parquet"]


class FailingRelation:
    """Writes half a file, then fails, as a crash in the middle of a write would."""

    def write_parquet(self, path, **_):
        with open(path, "wb") as file:
            file.write(b"PAR1 half a file")
        raise OSError("disk full")


def test_a_failed_export_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "dim_customers.parquet"
    export_parquet(duckdb.connect().sql("select 42 as answer"), path)
    before = path.read_bytes()
    with pytest.raises(OSError, match="disk full"):
        export_parquet(FailingRelation(), path)
    assert path.read_bytes() == before
    assert pd.read_parquet(path)["answer"].tolist() == [42]
    assert [p.name for p in tmp_path.iterdir()] == ["dim_customers.parquet"]
