"""The read-only query command analysts use."""

from __future__ import annotations

import duckdb

from segmentation.serving.query import main, run_query, warehouse_path


def test_query_reads_the_warehouse_read_only(tmp_path, capsys):
    database = tmp_path / "w.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create table dim_segments as select 1 as segment_id, 0.5 as customer_share")
    assert run_query("select segment_id from dim_segments", database)["segment_id"].tolist() == [1]
    assert main(["select * from dim_segments", "--database", str(database)]) == 0
    assert "customer_share" in capsys.readouterr().out


def test_query_explains_a_missing_warehouse(tmp_path, capsys):
    assert main(["select 1", "--database", str(tmp_path / "none.duckdb")]) == 1
    assert "build it first with 'make run'" in capsys.readouterr().err


def test_warehouse_path_follows_dbt_duckdb_path(monkeypatch, tmp_path):
    monkeypatch.setenv("DBT_DUCKDB_PATH", str(tmp_path / "x.duckdb"))
    assert warehouse_path() == tmp_path / "x.duckdb"
    monkeypatch.delenv("DBT_DUCKDB_PATH")
    assert str(warehouse_path()) == "warehouse/segmentation.duckdb"


def test_workspace_flag_reads_the_build_workspace_and_leaves_it_unchanged(tmp_path, capsys):
    from segmentation.serving.publish import BuildArea

    published = tmp_path / "w.duckdb"
    workspace = BuildArea.of_published(published).workspace
    workspace.parent.mkdir(parents=True)
    with duckdb.connect(str(workspace)) as connection:
        connection.execute("create table rejected_customers as select 'BALANCE is missing' as rejection_reason")
    assert main(["select rejection_reason from rejected_customers", "--database", str(published), "--workspace"]) == 0
    assert "BALANCE is missing" in capsys.readouterr().out
    assert not published.exists()
    with duckdb.connect(str(workspace), read_only=True) as connection:
        assert connection.execute("select count(*) from rejected_customers").fetchone()[0] == 1
