"""Values from dbt vars never become SQL: real dbt runs, kept cheap.

A var that reaches SQL is rendered there only after ``validate_vars()`` (macros/checks.sql)
accepted it as a number, one of a list or true/false, or as an escaped string literal
(the paths). A bad value stops ``dbt build`` in ``on-run-start``, before any seed or model
runs (only dbt's start-up is paid), with a message naming the var. ``dbt compile`` and
``dbt show`` skip ``on-run-start``: the macros that render a var check it again, so
compiling the node that renders it fails the same way. A path with quotes, ``--`` or
``;`` in it is read as that path.
"""

from __future__ import annotations

import os
import re
import shutil

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation.serving.exports import export_marts
from segmentation.spark_build import stop_spark
from tests.conftest import DEMO_SEED_CSV, DbtRun, run_dbt

pytestmark = pytest.mark.dbt

#: A quote, a statement separator and a comment in one value; and a quote alone.
STATEMENT = "1'; drop table x --"
QUOTE = "0.5' or '1'='1"

#: Each var rendered into SQL.
SQL_VARS = [
    "n_segments",
    "random_seed",
    "test_share",
    "max_clampable_frequency",
    "min_tenure",
    "max_tenure",
    "rejected_share_warn",
    "rejected_share_error",
    "model_version",
]

#: One var per macro that renders vars into SQL, and the node that calls it: what
#: `dbt compile --select` compiles (model_version_in_use renders `| int` only).
RENDERED_BY = {
    "max_clampable_frequency": "stg_customers",  # customers_source + validation.sql
    "random_seed": "int_customer_features_engineered",  # train_test_split
    "rejected_share_warn": "assert_rejected_share_below_warn_threshold",  # rejected_share_above
    "n_segments": "assert_elbow_one_selected_at_most_one_knee",
    "min_tenure": "test_name:value_between,int_customers_cleaned",  # a generic test's bound
}


def one_line(output: str) -> str:
    return " ".join(output.split())


def assert_stopped_before_any_model(run: DbtRun) -> None:
    assert run.returncode != 0
    assert "START sql table model" not in run.output
    assert "START python table model" not in run.output
    assert "START seed file" not in run.output


def assert_names_the_var(run: DbtRun, name: str, value: str) -> None:
    """The message of _var_message (macros/checks.sql): the var (min_tenure/max_tenure share one), the value,
    and how to set it."""
    text = one_line(run.output)
    # min_tenure and max_tenure are reported together: got 'min/max'.
    assert re.search(rf"var [\w/]*\b{name}\b[\w/]* must be .*got '.*{re.escape(value)}", text), run.output[-3000:]
    assert "Set it with: dbt build --vars" in text
    # The value reached no SQL: no database error, only the message.
    assert "Parser Error" not in text
    assert "Catalog Error" not in text


def demo_rows(n_rows: int) -> pd.DataFrame:
    return pd.read_csv(DEMO_SEED_CSV, dtype=str, keep_default_na=False).head(n_rows)


# --- vars that reach SQL: a bad value stops the build, and compiling the node that renders it ---


@pytest.fixture(scope="module")
def every_sql_var_with_sql_in_it(tmp_path_factory) -> DbtRun:
    """One build with SQL in every var that reaches SQL: the build reports every bad var
    at once, so one build shows each of them stopped."""
    return run_dbt(tmp_path_factory.mktemp("sql_vars"), "build", variables=dict.fromkeys(SQL_VARS, STATEMENT))


def test_sql_vars_with_sql_in_them_stop_the_build_before_any_model(every_sql_var_with_sql_in_it):
    assert_stopped_before_any_model(every_sql_var_with_sql_in_it)
    assert f"{len(SQL_VARS)} vars must be fixed:" in one_line(every_sql_var_with_sql_in_it.output)


@pytest.mark.parametrize("name", SQL_VARS)
def test_each_sql_var_with_sql_in_it_is_named(every_sql_var_with_sql_in_it, name):
    assert_names_the_var(every_sql_var_with_sql_in_it, name, STATEMENT)


@pytest.mark.parametrize("name", sorted(RENDERED_BY))
def test_sql_var_with_a_quote_stops_dbt_compile_of_the_node_that_renders_it(tmp_path, name):
    """dbt compile (and dbt show) run no on-run-start: the rendering macro checks. (dbt
    compile stops at the first node that fails: one compile per node.)"""
    run = run_dbt(tmp_path, "compile", "--select", RENDERED_BY[name], variables={name: QUOTE})
    assert run.returncode != 0
    assert_names_the_var(run, name, QUOTE)
    compiled = list((tmp_path / "target" / "compiled").rglob("*.sql"))
    assert not [path for path in compiled if QUOTE in path.read_text()]


@pytest.fixture(scope="module")
def other_bad_vars(tmp_path_factory) -> DbtRun:
    """Python-only vars, validated as early (segmentation/params.py checks them again); a
    path is text; a number is finite. One build with all of them."""
    variables = {
        "elbow_max_k": STATEMENT,
        "autoencoder_hidden_layers": [16, "8; drop table x"],
        "export_path": ["a", "b"],
        "max_clampable_frequency": "1e999",
    }
    return run_dbt(tmp_path_factory.mktemp("other_vars"), "build", variables=variables)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("elbow_max_k", STATEMENT),
        ("autoencoder_hidden_layers", "[16, '8; drop"),
        ("export_path", "['a', 'b']"),
        ("max_clampable_frequency", "1e999"),
    ],
)
def test_other_bad_vars_stop_the_build_before_any_model(other_bad_vars, name, shown):
    assert_stopped_before_any_model(other_bad_vars)
    assert_names_the_var(other_bad_vars, name, shown)


# --- customers_path: always a literal path ---


@pytest.mark.parametrize(
    "name",
    [
        "x.csv') union all select * from read_csv('/etc/passwd') --.csv",
        "x'; drop table x; --.parquet",
    ],
)
def test_a_path_with_sql_is_looked_up_as_that_path(tmp_path, name):
    path = tmp_path / name
    run = run_dbt(tmp_path / "build", "build", variables={"customers_path": str(path)})
    assert_stopped_before_any_model(run)
    assert f"customers_path '{path}' does not exist" in one_line(run.output)


def test_a_real_file_with_a_quote_in_its_name_is_read_and_published(tmp_path):
    """A whole build: the rows of the file named o'brien --; x arrive, and the publish
    step (whose SQL carries export_path as an escaped literal) links the export folder
    whose name has a quote, a comment and a semicolon."""
    frame = demo_rows(60)
    path = tmp_path / "o'brien --; x.csv"
    frame.to_csv(path, index=False)
    exports = tmp_path / "exp'o --; x"
    variables = {"customers_path": str(path), "export_path": str(exports), "compare_reducers": False}
    run = run_dbt(tmp_path / "build", "build", variables=variables)
    assert run.returncode == 0, run.output[-3000:]
    read = run.query("select customer_id from stg_customers order by source_row_number")
    assert read["customer_id"].tolist() == frame["CUST_ID"].tolist()
    assert exports.is_symlink()
    assert pq.read_table(exports / "dim_customers.parquet").num_rows == run.scalar("select count(*) from dim_customers")


def test_export_path_with_quotes_is_written_as_that_folder(tmp_path):
    """bi_exports hands export_path to DuckDB's write_parquet as a value, not SQL (the
    publish step renders it as an escaped literal: the test above)."""
    folder = tmp_path / "exp'o --; drop table x; x"
    with duckdb.connect() as connection:
        relation = connection.sql("select 1 as customer_id union all select 2")
        table = export_marts({"dim_customers": relation}, str(folder))
    written = folder / "dim_customers.parquet"
    assert table.column("path").to_pylist() == [str(written.resolve())]
    assert pq.read_table(written).num_rows == 2


# --- the Spark branch of customers_source.sql: dbt compile on the spark target ---


@pytest.fixture
def spark_target(tmp_path, monkeypatch):
    pytest.importorskip("pyspark", reason="the Spark extra is not installed: make setup-spark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java")
    monkeypatch.setenv("DBT_SPARK_WAREHOUSE", str(tmp_path / "spark"))
    yield
    # dbt ran in this process (tests/conftest.py) and dbt-spark started Spark on the
    # profile's master: stop it and its JVM, so a later test in this process can start
    # Spark on another master (tests/integration/test_spark.py runs on local-cluster).
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if SparkContext._active_spark_context is not None:
        stop_spark(SparkSession.builder.getOrCreate())


@pytest.mark.spark
def test_spark_csv_path_with_a_backslash_and_a_quote_stays_one_literal(tmp_path, spark_target):
    r"""The CSV view's path option: dbt-spark's escape_single_quotes turns \' into \\',
    which closes the literal; sql_string_literal escapes the backslash too."""
    path = f"{tmp_path}/x\\', header 'false') --.csv"
    run = run_dbt(
        tmp_path, "compile", "--target", "spark", "--select", "stg_customers", variables={"customers_path": path}
    )
    assert run.returncode != 0
    assert f"Path does not exist: file:{path}" in run.output, run.output[-3000:]


@pytest.mark.spark
def test_spark_parquet_path_with_a_backtick_and_a_quote_is_read(tmp_path, spark_target):
    """parquet.`path`: a backtick in the path is doubled, not the end of the identifier.
    Compiling stg_customers reads the file's columns: all required ones are found."""
    path = tmp_path / "o'brien `x` --; y.parquet"
    pq.write_table(pa.Table.from_pandas(demo_rows(5), preserve_index=False), path)
    run = run_dbt(
        tmp_path, "compile", "--target", "spark", "--select", "stg_customers", variables={"customers_path": str(path)}
    )
    assert run.returncode == 0, run.output[-3000:]
    compiled = next((tmp_path / "target" / "compiled").rglob("stg_customers.sql")).read_text()
    assert "parquet.`" + str(path).replace("`", "``") + "`" in compiled
