"""End to end: real `dbt build` runs into temporary DuckDB files, and their outputs."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from sklearn.metrics import adjusted_rand_score

from segmentation.columns import RAW_COLUMNS
from segmentation.generator import PLANTED_GROUPS
from tests.conftest import DEMO_GROUPS_CSV, DEMO_SEED_CSV, REPO_ROOT, build_ok, run_dbt

pytestmark = pytest.mark.dbt

SEGMENT_TABLES = ["customer_segments", "dim_customers"]


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory):
    return build_ok(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def cc_general_build(tmp_path_factory, cc_general_csv):
    variables = {"customers_path": str(cc_general_csv), "compare_reducers": False}
    return build_ok(tmp_path_factory.mktemp("cc_general"), variables)


def assert_every_source_row_accounted_for(run, source_rows: int) -> None:
    clean = run.scalar("select count(*) from int_customers_cleaned")
    rejected = run.scalar("select count(*) from rejected_customers")
    assert clean + rejected == source_rows
    assert run.scalar("select count(*) from stg_customers") == source_rows
    for table in SEGMENT_TABLES:
        assert run.scalar(f"select count(*) from {table}") == clean, table
        assert run.scalar(f"select count(distinct customer_id) from {table}") == clean, table


def test_demo_build_segments_every_customer_into_three_segments(demo_build):
    source_rows = len(pd.read_csv(DEMO_SEED_CSV))
    assert_every_source_row_accounted_for(demo_build, source_rows)
    assert demo_build.scalar("select count(*) from rejected_customers") == 0
    segments = demo_build.query("select * from dim_segments order by segment_id")
    assert segments["segment_id"].tolist() == [1, 2, 3]
    assert segments["customer_share"].sum() == pytest.approx(1.0)
    # Numbering rule: by train customers, largest first.
    assert segments["train_customer_count"].is_monotonic_decreasing
    split_share = demo_build.scalar("select avg(case when split = 'test' then 1.0 else 0 end) from customer_segments")
    assert split_share == pytest.approx(0.2, abs=0.02)


def test_the_build_closes_its_workspace_at_exit(demo_build):
    """The build's process freezes its heap at exit (segmentation/serving/publish/
    build_process.py), and still closes the workspace: DuckDB folds its write-ahead log
    into the file as it closes, so none is left."""
    workspace = demo_build.workspace
    assert workspace.is_file()
    assert not workspace.with_name(workspace.name + ".wal").exists()


def test_demo_build_reports_imputed_and_clamped_values(demo_build):
    flags = demo_build.query(
        "select count(*) filter (is_minimum_payments_imputed) as minimum_payments,"
        " count(*) filter (is_credit_limit_imputed) as credit_limit,"
        " count(*) filter (is_frequency_clamped) as clamped from dim_customers"
    ).iloc[0]
    seed = pd.read_csv(DEMO_SEED_CSV)
    assert flags["minimum_payments"] == seed["MINIMUM_PAYMENTS"].isna().sum()
    assert flags["credit_limit"] == seed["CREDIT_LIMIT"].isna().sum()
    assert flags["clamped"] == (seed["CASH_ADVANCE_FREQUENCY"] > 1).sum()
    assert demo_build.scalar("select max(cash_advance_frequency) from dim_customers") == 1.0


def test_dbt_unit_tests_run_apart_from_the_build_and_pass(demo_build):
    """A plain ``dbt build`` leaves the dbt unit tests out (selectors.yml: they check a
    model's SQL on fixed rows, not a build's data); ``dbt test --select test_type:unit``
    runs every one of them, here on the demo build's workspace."""
    declared = [
        test["name"]
        for path in sorted((REPO_ROOT / "models").rglob("*.yml"))
        for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", [])
    ]
    assert len(declared) >= 3, declared
    assert not re.search(r"Finished running [^\n]*unit test", demo_build.output)
    run = run_dbt(demo_build.database.parent, "test", "--select", "test_type:unit")
    assert run.returncode == 0, f"dbt unit tests failed:\n{run.output[-6000:]}"
    assert re.search(rf"Finished running .*\b{len(declared)} unit tests\b", run.output), run.output[-3000:]
    for name in declared:
        assert re.search(rf"PASS \S+::{name}\b", run.output), name


def test_two_builds_with_the_same_seed_are_identical(demo_build, tmp_path):
    # The rebuild leaves out the reducer comparison: it changes no segment either.
    rebuild = build_ok(tmp_path, {"compare_reducers": False})
    for table in [*SEGMENT_TABLES, "dim_segments"]:
        key = "segment_id" if table == "dim_segments" else "customer_id"
        first = demo_build.query(f"select * from {table} order by {key}")
        second = rebuild.query(f"select * from {table} order by {key}")
        pd.testing.assert_frame_equal(first, second, check_exact=True)


def test_auto_finds_the_planted_groups_and_recovers_them(tmp_path):
    """n_segments auto picks the knee of the elbow curve: on the demo data, the number of
    planted groups; the segments then match the groups."""
    run = build_ok(tmp_path, {"n_segments": "auto", "compare_reducers": False})
    elbow = run.query("select k, is_knee, is_selected from segment_elbow order by k")
    assert elbow.loc[elbow["is_knee"], "k"].tolist() == [len(PLANTED_GROUPS)]
    assert elbow.loc[elbow["is_selected"], "k"].tolist() == [len(PLANTED_GROUPS)]
    assert "n_segments auto: the knee of the elbow curve is k=4" in run.output
    segments = run.query("select customer_id, segment_id from customer_segments")
    merged = segments.merge(pd.read_csv(DEMO_GROUPS_CSV), on="customer_id", validate="one_to_one")
    assert len(merged) == len(segments)
    score = adjusted_rand_score(merged["planted_group"], merged["segment_id"])
    print(f"adjusted Rand index, planted groups vs segments (k={len(PLANTED_GROUPS)}): {score:.3f}")
    assert score >= 0.8
    assert run.scalar("select count(*) from dim_segments") == len(PLANTED_GROUPS)


def test_public_data_set_all_customers_segmented_none_rejected(cc_general_build, cc_general_csv):
    source = pd.read_csv(cc_general_csv)
    assert len(source) == 8950
    assert_every_source_row_accounted_for(cc_general_build, len(source))
    assert cc_general_build.scalar("select count(*) from rejected_customers") == 0
    # Its quirks (../shared/data/SOURCE.md) are imputed or clamped, and flagged.
    flags = cc_general_build.query(
        "select count(*) filter (is_minimum_payments_imputed) as minimum_payments,"
        " count(*) filter (is_credit_limit_imputed) as credit_limit,"
        " count(*) filter (is_frequency_clamped) as clamped from dim_customers"
    ).iloc[0]
    assert flags.to_dict() == {"minimum_payments": 313, "credit_limit": 1, "clamped": 8}
    sizes = cc_general_build.query("select segment_id, customer_count from dim_segments order by segment_id")
    print("segment sizes on cc_general.csv:", dict(zip(sizes["segment_id"], sizes["customer_count"], strict=True)))
    assert sizes["segment_id"].tolist() == [1, 2, 3]
    assert sizes["customer_count"].min() > 0.05 * len(source)


def test_own_file_with_other_header_case_order_extra_columns_and_bad_rows(tmp_path):
    """A CSV with lower-case, space-padded headers in another order, an extra column, and
    three bad rows: the bad rows are rejected with reasons, the others segmented."""
    customers = pd.read_csv(DEMO_SEED_CSV, dtype=str, keep_default_na=False).head(600)
    bad = customers.head(3).copy()
    bad["CUST_ID"] = ["C90001", "C90002", customers.loc[0, "CUST_ID"]]
    bad.loc[bad.index[0], "BALANCE"] = "abc"
    bad.loc[bad.index[1], "CASH_ADVANCE"] = "-12.5"
    frame = pd.concat([customers, bad], ignore_index=True)
    frame["BRANCH_CODE"] = "X1"
    frame = frame[["BRANCH_CODE", *reversed(RAW_COLUMNS)]]
    frame.columns = [f" {name.lower()} " for name in frame.columns]
    path = tmp_path / "my customers.csv"
    frame.to_csv(path, index=False)

    run = build_ok(tmp_path / "build", {"customers_path": str(path), "n_segments": 2, "compare_reducers": False})
    assert_every_source_row_accounted_for(run, len(frame))
    rejects = run.query("select source_row_number, rejection_reason, raw_balance from rejected_customers order by 1")
    assert rejects["rejection_reason"].tolist() == [
        "BALANCE is not a number: 'abc'",
        "CASH_ADVANCE is negative: -12.5",
        f"CUST_ID {customers.loc[0, 'CUST_ID']} is a duplicate of source row 1",
    ]
    assert rejects["raw_balance"].iloc[0] == "abc"
    assert run.scalar("select count(distinct segment_id) from customer_segments") == 2


def test_own_parquet_file_is_read_by_extension(tmp_path):
    customers = pd.read_csv(DEMO_SEED_CSV).head(800)
    path = tmp_path / "customers.parquet"
    customers.to_parquet(path, index=False)
    run = build_ok(tmp_path / "build", {"customers_path": str(path), "compare_reducers": False})
    assert_every_source_row_accounted_for(run, 800)
    assert run.scalar("select count(*) from rejected_customers") == 0


def test_demo_build_writes_the_diagnostic_tables(demo_build):
    elbow = demo_build.query("select * from segment_elbow order by k")
    assert elbow["k"].tolist() == list(range(1, 11))
    assert elbow.loc[elbow["is_selected"], "k"].tolist() == [3]
    assert elbow["is_knee"].sum() <= 1
    assert elbow["inertia"].is_monotonic_decreasing
    comparison = demo_build.query("select * from reducer_comparison").set_index("reducer")
    assert sorted(comparison.index) == ["autoencoder", "none", "pca"]
    assert comparison.loc["none", "test_reconstruction_r2"] == pytest.approx(1.0)
    assert comparison.loc["pca", "n_dimensions"] == comparison.loc["autoencoder", "n_dimensions"]
    print("reducer comparison on the demo data:\n", comparison.to_string())
    kept = demo_build.scalar("select count(distinct component) from pca_components where is_kept")
    reduced_columns = demo_build.query("select * from customer_features_reduced limit 1").columns
    assert [c for c in reduced_columns if c.startswith("component_")] == [f"component_{i}" for i in range(1, kept + 1)]
    metrics = demo_build.query("select * from segmentation_metrics")
    assert len(metrics) == 1
    assert metrics.loc[0, "n_segments"] == 3 and metrics.loc[0, "reducer"] == "pca"
    assert metrics.loc[0, "test_generalisation_ari"] > 0.9
    quality = demo_build.query("select * from segment_quality")
    assert len(quality) == 6
    assert quality["customer_count"].sum() == demo_build.scalar("select count(*) from customer_segments")


def test_autoencoder_builds_are_repeatable(tmp_path):
    # A small autoencoder on 1,000 customers (repeatability depends on neither size).
    path = tmp_path / "customers.csv"
    pd.read_csv(DEMO_SEED_CSV, dtype=str, keep_default_na=False).head(1000).to_csv(path, index=False)
    variables = {
        "customers_path": str(path),
        "reducer": "autoencoder",
        "compare_reducers": False,
        # the comparison would train the autoencoder once per feature transform
        "compare_feature_transforms": False,
        "autoencoder_epochs": 10,
        "elbow_max_k": 4,
    }
    first, second = build_ok(tmp_path / "first", variables), build_ok(tmp_path / "second", variables)
    assert "autoencoder trained:" in first.output
    for table in ("customer_features_reduced", "customer_segments"):
        pd.testing.assert_frame_equal(
            first.query(f"select * from {table} order by customer_id"),
            second.query(f"select * from {table} order by customer_id"),
            check_exact=True,
        )
    assert first.scalar("select reducer from segmentation_metrics") == "autoencoder"
    assert first.scalar("select count(*) from information_schema.tables where table_name = 'reducer_comparison'") == 0


def test_reducer_none_clusters_the_scaled_features(tmp_path):
    run = build_ok(tmp_path, {"reducer": "none", "compare_reducers": False})
    columns = run.query("select * from customer_features_reduced limit 1").columns
    assert sum(c.startswith("component_") for c in columns) == 18
    assert run.scalar("select count(distinct segment_id) from customer_segments") == 3


def test_pca_build_without_comparison_never_imports_tensorflow(tmp_path):
    """dbt-duckdb runs Python models in-process: after the build, TensorFlow must not
    be among the loaded modules."""
    variables = f"{{compare_reducers: false, export_path: {tmp_path / 'exports'}}}"
    script = (
        "import sys\n"
        "from dbt.cli.main import dbtRunner\n"
        f"result = dbtRunner().invoke(['build', '--vars', {variables!r}, "
        f"'--target-path', {str(tmp_path / 'target')!r}, '--log-path', {str(tmp_path / 'logs')!r}])\n"
        "assert result.success, result.exception\n"
        "print('TENSORFLOW_LOADED', 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env={**os.environ, "DBT_DUCKDB_PATH": str(tmp_path / "w.duckdb")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "TENSORFLOW_LOADED False False" in completed.stdout


def test_public_data_set_with_the_autoencoder_and_auto_k(tmp_path, cc_general_csv):
    run = build_ok(
        tmp_path,
        {
            "customers_path": str(cc_general_csv),
            "reducer": "autoencoder",
            "n_segments": "auto",
            "compare_reducers": False,
            "compare_feature_transforms": False,
        },
    )
    assert run.scalar("select count(*) from customer_segments") == 8950
    selected = run.scalar("select k from segment_elbow where is_selected")
    assert run.scalar("select count(distinct segment_id) from customer_segments") == selected
    print("cc_general, autoencoder + auto: k =", selected)
