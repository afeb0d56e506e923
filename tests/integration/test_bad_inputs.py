"""Bad input never breaks silently: each case is a real `dbt build` on a crafted file.

A bad file or var stops the build before any model runs, with a message naming the
problem; a bad row goes to rejected_customers with its reason while the others are
segmented; every source row is accounted for. The cases that prove a file is read (its
format, its path, its values) build only the models that read it (READING_MODELS); the
others build everything.
"""

from __future__ import annotations

import decimal
import gzip

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation.columns import RAW_COLUMNS
from tests.conftest import DEMO_SEED_CSV, DbtRun, run_dbt

pytestmark = pytest.mark.dbt

#: Small, quick builds: the reducer comparison and a long elbow are not what is tested.
FAST = {"compare_reducers": False, "elbow_max_k": 4}


def demo_rows(n_rows: int = 300) -> pd.DataFrame:
    """The first demo customers, every value as the text in the seed."""
    return pd.read_csv(DEMO_SEED_CSV, dtype=str, keep_default_na=False).head(n_rows)


def one_line(output: str) -> str:
    return " ".join(output.split())


def build_file(tmp_path, frame: pd.DataFrame, name: str = "customers.csv", **variables) -> tuple[DbtRun, str]:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    run = run_dbt(tmp_path / "build", "build", variables={**FAST, "customers_path": str(path), **variables})
    return run, str(path)


#: A build of what reads and checks the customers file (staging, cleaned customers, rejects
#: and the tests on them only): for the cases that prove a file is read, row by row.
READING_MODELS = ("--select", "+int_customers_cleaned", "+rejected_customers", "--indirect-selection", "cautious")


def read_file(tmp_path, path, **variables) -> DbtRun:
    """The reading models built on ``path`` (a partial build publishes nothing: the
    returned run reads the build workspace)."""
    run = run_dbt(tmp_path / "build", "build", *READING_MODELS, variables={"customers_path": str(path), **variables})
    assert run.returncode == 0, run.output[-3000:]
    return run.in_workspace()


def assert_accounted(run: DbtRun, source_rows: int) -> None:
    """Every source row is a clean customer or a reject (with its reason)."""
    clean = run.scalar("select count(*) from int_customers_cleaned")
    rejected = run.scalar("select count(*) from rejected_customers")
    assert clean + rejected == source_rows
    assert run.scalar("select count(*) from rejected_customers where rejection_reason is null") == 0


def assert_stopped_before_any_model(run: DbtRun) -> None:
    assert run.returncode != 0
    assert "START sql table model" not in run.output
    assert "START python table model" not in run.output
    assert "START seed file" not in run.output


def assert_reconciled(run: DbtRun, source_rows: int) -> None:
    clean = run.scalar("select count(*) from int_customers_cleaned")
    rejected = run.scalar("select count(*) from rejected_customers")
    assert clean + rejected == source_rows
    assert run.scalar("select count(*) from customer_segments") == clean
    assert run.scalar("select count(*) from dim_customers") == clean


# --- files that cannot be used: the build stops before any model, naming the problem ---


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere" / "customers.csv"
    run = run_dbt(tmp_path / "build", "build", variables={"customers_path": str(path)})
    assert_stopped_before_any_model(run)
    assert f"customers_path '{path}' does not exist" in one_line(run.output)
    assert "Pass an existing .csv, .csv.gz or .parquet file." in one_line(run.output)


def test_unsupported_format_names_the_accepted_ones(tmp_path):
    path = tmp_path / "customers.xlsx"
    path.write_text("not a spreadsheet")
    run = run_dbt(tmp_path / "build", "build", variables={"customers_path": str(path)})
    assert_stopped_before_any_model(run)
    assert f"customers_path '{path}' is not a supported file: use a .csv, .csv.gz or .parquet file" in one_line(
        run.output
    )


def test_unreadable_parquet_names_the_path(tmp_path):
    path = tmp_path / "customers.parquet"
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    run = run_dbt(tmp_path / "build", "build", variables={"customers_path": str(path)})
    assert_stopped_before_any_model(run)
    assert str(path) in one_line(run.output)


@pytest.mark.parametrize(
    ("drop", "rename", "missing", "found_extra"),
    [
        (["TENURE", "PAYMENTS"], {}, "PAYMENTS, TENURE", None),
        ([], {"BALANCE": "BALANCEE"}, "BALANCE", "BALANCEE"),
    ],
)
def test_missing_or_misspelt_columns_are_listed_with_the_columns_found(tmp_path, drop, rename, missing, found_extra):
    run, _ = build_file(tmp_path, demo_rows(20).drop(columns=drop).rename(columns=rename))
    assert_stopped_before_any_model(run)
    message = one_line(run.output)
    assert f"is missing required columns: {missing}." in message
    assert "Columns found: CUST_ID," in message
    if found_extra:
        assert found_extra in message


def test_empty_file(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("")
    run = run_dbt(tmp_path / "build", "build", variables={"customers_path": str(path)})
    assert_stopped_before_any_model(run)
    assert f"no customer rows in {path}: the file is empty." in one_line(run.output)


def test_header_only_file(tmp_path):
    run, path = build_file(tmp_path, demo_rows(0))
    assert_stopped_before_any_model(run)
    assert f"no customer rows in {path}: the file has a header but no data rows." in one_line(run.output)


#: Bad vars and the message naming each. One build per group: a build reports every bad
#: var at once, so a group holds vars that do not hide each other (a rule between two vars
#: is checked when each of them is valid on its own).
BAD_VAR_GROUPS = {
    "each var's own rule": (
        {"n_segments": 0, "reducer": "umap", "test_share": 1.5, "n_components": -2, "random_seed": "x"},
        [
            "var n_segments must be a whole number of at least 1 or 'auto', got '0'",
            "var reducer must be one of pca, autoencoder, none, got 'umap'",
            "var test_share must be a number between 0 and 1 (exclusive), got '1.5'",
            "var n_components must be a whole number of components (>= 1) or a share",
            "var random_seed must be a whole number of at least 0, got 'x'",
        ],
    ),
    "words and shares, and the rules between vars": (
        # neither a count nor a share: stopped here too, not only later in the Python models
        {"n_segments": "many", "n_components": 1.5, "min_tenure": 6, "max_tenure": 3, "model_version": 2},
        [
            "var n_segments must be a whole number of at least 1 or 'auto', got 'many'",
            "var n_components must be a whole number of components (>= 1) or a share",
            "var min_tenure/max_tenure must be whole numbers of at least 1 with min_tenure <= max_tenure, "
            "got '6/3'. Set them with: dbt build --vars '{min_tenure: 1, max_tenure: 12}'",
            "var model_version=2 only applies with refit: false",
        ],
    ),
    "refit": ({"refit": "maybe"}, ["var refit must be true or false, got 'maybe'"]),
    "a version that is no version": (
        {"refit": False, "model_version": "v2"},
        ["var model_version must be a stored model version"],
    ),
}


@pytest.mark.parametrize("group", sorted(BAD_VAR_GROUPS))
def test_bad_vars_stop_the_build_naming_every_var_and_the_accepted_values(tmp_path, group):
    variables, messages = BAD_VAR_GROUPS[group]
    run = run_dbt(tmp_path / "build", "build", variables=variables)
    assert_stopped_before_any_model(run)
    text = one_line(run.output)
    for message in messages:
        assert message in text, run.output[-3000:]
    if len(messages) > 1:
        assert f"{len(messages)} vars must be fixed:" in text


# --- files that can be used: bad rows are set aside with a reason, the rest segmented ---


def test_bad_values_are_rejected_with_readable_reasons(tmp_path):
    rows = demo_rows(300)
    bad = rows.head(9).copy()
    bad["CUST_ID"] = [f"C9000{i}" for i in range(9)]
    edits = [
        ("BALANCE", "abc", "BALANCE is not a number: 'abc'"),
        ("PURCHASES", "1,5", "PURCHASES is not a number: '1,5'"),
        ("CUST_ID", "", "CUST_ID is missing"),
        ("CUST_ID", rows.loc[5, "CUST_ID"], f"CUST_ID {rows.loc[5, 'CUST_ID']} is a duplicate of source row 6"),
        ("CASH_ADVANCE", "-3", "CASH_ADVANCE is negative: -3"),
        ("PURCHASES_FREQUENCY", "7", "PURCHASES_FREQUENCY is above 2.0: 7"),
        ("TENURE", "40", "TENURE is outside 1 to 12: 40"),
        ("PAYMENTS", "Infinity", "PAYMENTS is not a finite number: Infinity"),
        ("CREDIT_LIMIT", "nan", "CREDIT_LIMIT is not a finite number: nan"),
    ]
    for position, (column, value, _) in enumerate(edits):
        bad.iloc[position, bad.columns.get_loc(column)] = value
    # Spaces around a number, ASCII or not (a non-breaking space from a spreadsheet, a
    # thin space), do not make it bad.
    padded_balance = float(rows.loc[10, "BALANCE"])
    rows.loc[10, "BALANCE"] = "\u00a0" + rows.loc[10, "BALANCE"] + "\u2009"
    rows.loc[11, "TENURE"] = " " + rows.loc[11, "TENURE"] + " "
    frame = pd.concat([rows, bad], ignore_index=True)
    run, _ = build_file(tmp_path, frame, rejected_share_error=0.5)
    assert run.returncode == 0, run.output[-3000:]
    assert_reconciled(run, len(frame))
    rejects = run.query("select source_row_number, rejection_reason, raw_cust_id from rejected_customers order by 1")
    assert rejects["rejection_reason"].tolist() == [reason for _, _, reason in edits]
    assert rejects["source_row_number"].tolist() == list(range(301, 310))
    assert rejects["raw_cust_id"].iloc[0] == "C90000"
    padded = run.query("select balance from int_customers_cleaned where source_row_number = 11")
    assert padded["balance"].tolist() == [padded_balance]
    # 300 good rows segmented; the summary counts each kind of problem.
    summary = run.query("select * from rpt_rejection_reasons").set_index("rejection_kind")
    assert summary.loc["BALANCE is not a number", "rejected_row_count"] == 1
    assert summary["rejected_row_count"].sum() == 9
    # 9 of 309 rows is above the 1% warning threshold: the build warns but goes on.
    assert "WARN" in run.output and "assert_rejected_share_below_warn_threshold" in run.output


def test_a_cash_advance_frequency_like_the_public_data_is_clamped_not_rejected(tmp_path):
    rows = demo_rows(200)
    rows.loc[0, "CASH_ADVANCE_FREQUENCY"] = "1.5"
    run, _ = build_file(tmp_path, rows)
    assert run.returncode == 0, run.output[-3000:]
    assert run.scalar("select count(*) from rejected_customers") == 0
    clamped = run.query(
        "select cash_advance_frequency, is_frequency_clamped from dim_customers where is_frequency_clamped"
    )
    assert clamped.to_dict("records") == [{"cash_advance_frequency": 1.0, "is_frequency_clamped": True}]


def test_every_row_rejected_stops_with_the_counts_and_keeps_the_last_good_build(tmp_path):
    good, _ = build_file(tmp_path, demo_rows(200))
    assert good.returncode == 0, good.output[-3000:]
    before = good.query("select * from dim_customers order by customer_id")
    bad = demo_rows(50)
    bad["BALANCE"] = "n/a"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    run = run_dbt(tmp_path / "build", "build", variables={**FAST, "customers_path": str(path)})
    assert run.returncode != 0
    assert (
        "only 0 clean customers: 50 of 50 source rows were rejected, and 3 are needed for n_segments=3. "
        "Most common reasons: BALANCE is not a number: 'n/a' (50 rows)"
    ) in one_line(run.output)
    # The segment tables and marts of the last good build are untouched...
    pd.testing.assert_frame_equal(run.query("select * from dim_customers order by customer_id"), before)
    assert run.scalar("select count(*) from customer_segments") == 200
    # ...while the rejects of the failed file are there to read in the build workspace.
    assert run.in_workspace().scalar("select count(*) from rejected_customers") == 50
    assert run.scalar("select count(*) from rejected_customers") == 0


def test_fewer_clean_customers_than_segments(tmp_path):
    rows = demo_rows(6)
    rows.loc[2:, "TENURE"] = "0"
    run, _ = build_file(tmp_path, rows, n_segments=5, rejected_share_error=1)
    assert run.returncode != 0
    assert "only 2 clean customers: 4 of 6 source rows were rejected, and 5 are needed for n_segments=5" in one_line(
        run.output
    )


def test_too_many_rejected_rows_fail_the_build(tmp_path):
    rows = demo_rows(200)
    rows.loc[:59, "TENURE"] = "99"
    run, _ = build_file(tmp_path, rows)
    assert run.returncode != 0
    assert "Failure in test assert_rejected_share_below_error_threshold" in one_line(run.output)


def test_constant_and_empty_columns_are_left_out_of_clustering_with_a_warning(tmp_path):
    rows = demo_rows(300)
    rows["CREDIT_LIMIT"] = ""
    rows["PRC_FULL_PAYMENT"] = "0"
    run, _ = build_file(tmp_path, rows)
    assert run.returncode == 0, run.output[-3000:]
    assert_reconciled(run, 300)
    warning = one_line(run.output)
    assert "constant features left out of clustering" in warning
    for feature in ("credit_limit", "prc_full_payment"):
        assert feature in warning
    assert run.scalar("select count(*) from dim_customers where credit_limit is null or isnan(credit_limit)") == 0
    assert run.scalar("select count(*) from customer_segments where isnan(distance_to_centroid)") == 0
    assert run.scalar("select count(*) from dim_customers where is_credit_limit_imputed") == 300
    # The exploration marts say "no correlation" and "no skewness" for a constant feature.
    assert run.scalar("select count(*) from rpt_feature_correlations where isnan(correlation)") == 0
    nulls = run.scalar(
        "select count(*) from rpt_feature_correlations where correlation is null and feature_a = 'prc_full_payment'"
    )
    assert nulls == 17  # every other feature; the diagonal stays 1
    assert run.scalar("select skewness from rpt_feature_summary where feature = 'credit_limit'") is None


@pytest.mark.parametrize("name", ["o'brien; drop table x; --.csv", 'quote"d $(rm -rf x) `y`.csv'])
def test_a_path_with_quotes_or_sql_is_read_as_a_path(tmp_path, name):
    path = tmp_path / name
    demo_rows(150).to_csv(path, index=False)
    assert_accounted(read_file(tmp_path, path), 150)


def test_typed_parquet_numbers_are_validated_as_numbers(tmp_path):
    """A Parquet file with typed columns (double, integer, decimal, text): bad numbers are
    rejected with their value as DuckDB writes it, the source text is kept for rejected
    rows only, the rest is segmented."""
    rows = demo_rows(300)
    numbers = rows.drop(columns="CUST_ID").replace("", None).astype(float)
    numbers.loc[0, "BALANCE"] = -5.0
    numbers.loc[1, "PAYMENTS"] = None
    numbers.loc[2, "PURCHASES"] = np.inf
    columns = {"CUST_ID": pa.array(rows["CUST_ID"])}
    for name in numbers.columns:
        columns[name] = pa.array(numbers[name], pa.float64())
    columns["TENURE"] = pa.array(numbers["TENURE"].astype("int64"), pa.int64())
    credit = [None if np.isnan(value) else decimal.Decimal(f"{value:.2f}") for value in numbers["CREDIT_LIMIT"]]
    columns["CREDIT_LIMIT"] = pa.array(credit, pa.decimal128(12, 2))
    # Text is read as text: a number padded with spaces passes, a date is no number.
    trx = [f"{value:g}" for value in numbers["CASH_ADVANCE_TRX"]]
    trx[3], trx[4] = "2026-01-31", f" {trx[4]} "
    columns["CASH_ADVANCE_TRX"] = pa.array(trx, pa.string())
    path = tmp_path / "typed.parquet"
    table = pa.table(columns)
    pq.write_table(table, path)
    run = read_file(tmp_path, path, rejected_share_error=0.5)
    assert_accounted(run, len(rows))
    rejects = run.query("select source_row_number, rejection_reason, raw_balance from rejected_customers order by 1")
    assert rejects["source_row_number"].tolist() == [1, 2, 3, 4]
    reasons = rejects["rejection_reason"].tolist()
    assert reasons[0] == "BALANCE is negative: -5.0" and rejects["raw_balance"].iloc[0] == "-5.0"
    assert reasons[1] == "PAYMENTS is missing"
    assert reasons[2] == "PURCHASES is not a finite number: inf"
    assert reasons[3] == "CASH_ADVANCE_TRX is not a number: '2026-01-31'"
    assert run.scalar("select count(*) from stg_customers where is_valid and raw_balance is not null") == 0
    assert run.scalar("select count(*) from stg_customers where tenure is null") == 0


def test_gzip_compressed_csv(tmp_path):
    path = tmp_path / "customers.csv.gz"
    with gzip.open(path, "wt") as handle:
        demo_rows(150).to_csv(handle, index=False)
    assert_accounted(read_file(tmp_path, path), 150)


def test_semicolon_delimited_csv(tmp_path):
    path = tmp_path / "customers.csv"
    demo_rows(150).to_csv(path, index=False, sep=";")
    assert_accounted(read_file(tmp_path, path), 150)


def garbage_rows(n_rows: int, seed: int) -> pd.DataFrame:
    """``n_rows`` demo rows, a fifth of them with random garbage in random cells."""
    rng = np.random.default_rng(seed)
    rows = pd.read_csv(DEMO_SEED_CSV, dtype=str, keep_default_na=False).sample(n=n_rows, random_state=seed)
    rows = rows.reset_index(drop=True)
    junk = ["", " ", "NaN", "-1", "1e999", "\u221e", "12abc", '"', "'", ",", ";", "\\N", "NULL", "0x1F"]
    junk += ["\uff11\uff12", "- 5"]
    alphabet = list("abcXYZ019 ,.;:'\"-+e\t")
    for row in np.flatnonzero(rng.random(n_rows) < 0.2):
        for column in rng.choice(RAW_COLUMNS, size=rng.integers(1, 4), replace=False):
            if rng.random() < 0.5:
                value = str(rng.choice(junk))
            else:
                value = "".join(rng.choice(alphabet, size=rng.integers(1, 12)))
            rows.loc[row, column] = value
    return rows


def test_fuzz_every_source_row_ends_in_clean_or_rejects(tmp_path):
    path = tmp_path / "customers.csv"
    garbage_rows(1000, seed=20261127).to_csv(path, index=False)
    run = read_file(tmp_path, path, rejected_share_error=0.5)
    assert_accounted(run, 1000)
    rejected = run.scalar("select count(*) from rejected_customers")
    assert 100 < rejected < 300


def test_empty_dry_run_builds_the_schema_and_publishes_nothing(tmp_path):
    built = run_dbt(tmp_path, "build", "--empty")
    assert built.returncode == 0, built.output[-3000:]
    assert "Not published: a --empty build has no rows" in one_line(built.output)
    assert not built.database.exists()
    run = built.in_workspace()
    assert run.scalar("select count(*) from customer_segments") == 0
    columns = run.query("select * from dim_customers").columns.tolist()
    assert columns[:5] == ["customer_id", "segment_id", "segment_name", "model_version", "split"]
    assert run.scalar("select count(*) from segmentation_models") == 0  # nothing fitted on no rows
