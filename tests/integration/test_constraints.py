"""Every guarantee that replaced a per-column data test still fails the build.

SQL tables enforce their contracts' constraints (not_null, check, primary_key, unique)
as DuckDB writes them; each Python model has one column_checks test (tests/generic). One
demo build, then, in its build workspace (nothing of it is published):

- every constraint of every contracted table is broken by an insert, which DuckDB refuses
  naming the column (rolled back);
- a null and a duplicate in customer_segments make ``dbt run`` of dim_customers fail,
  naming the constraint and the column;
- every Python model's table gets violations of its checks, and one ``dbt test`` of the
  column_checks tests fails each model, storing one row per violation that names the
  check and the column.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import DbtRun, run_dbt

pytestmark = pytest.mark.dbt

VARIABLES = {"compare_reducers": False, "compare_feature_transforms": True}
CONTRACTED = (
    "stg_customers",
    "rejected_customers",
    "int_customers_cleaned",
    "int_customer_features_engineered",
    "rpt_rejection_reasons",
    "dim_customers",
    "dim_segments",
    "fct_campaign_audience",
    "segment_elbow",
    "segment_definitions",
    "segment_centroids",
    "segmentation_features",
    "rpt_feature_summary",
    "rpt_feature_correlations",
    "rpt_segment_distributions",
    "metricflow_time_spine",
    "customer_segment_history",
)

#: The SQL tables with a row per customer: their keys are column_checks, not primary_key.
PER_CUSTOMER_TABLES = (
    "stg_customers",
    "int_customers_cleaned",
    "int_customer_features_engineered",
    "dim_customers",
    "fct_campaign_audience",
    "customer_segment_history",
)

#: Per model with column_checks tests (every Python model, and the per-customer SQL tables,
#: whose keys are checked by column_checks instead of an in-memory primary_key index;
#: reducer_comparison is not built with compare_reducers false): SQL
#: that breaks its table, and the (failed_check, column_name) rows column_checks must
#: return for it.
VIOLATIONS = {
    "customer_features_reduced": (
        [
            "insert into {t} select * from {t} limit 1",
            "update {t} set split = null where customer_id = (select max(customer_id) from {t})",
        ],
        {("unique", "customer_id"), ("not_null", "split")},
    ),
    "segmentation_models": (
        ["update {t} set reducer = 'kmeans', train_silhouette = 1.5, fitted_at = null"],
        {("accepted_values", "reducer"), ("max 1", "train_silhouette"), ("not_null", "fitted_at")},
    ),
    "segment_transitions": (
        [
            "insert into {t} by name select 1 as from_model_version, 1 as from_segment_id,"
            " 2 as to_model_version, 1 as to_segment_id, -1 as customer_count, 2.0 as share_of_from_segment",
            "insert into {t} by name select null as from_model_version, 1 as from_segment_id,"
            " 2 as to_model_version, 1 as to_segment_id",
        ],
        {
            ("min 0", "customer_count"),
            ("max 1", "share_of_from_segment"),
            ("unique", "from_segment_id, to_segment_id"),
            ("not_null", "from_model_version"),
        },
    ),
    "customer_segments": (
        [
            "update {t} set segment_id = 0, confidence = 1.5, split = 'holdout', distance_to_centroid = -1"
            " where customer_id = (select min(customer_id) from {t})",
            "update {t} set segment_name = null where customer_id = (select max(customer_id) from {t})",
        ],
        {
            ("min 1", "segment_id"),
            ("max 1", "confidence"),
            ("accepted_values", "split"),
            ("min 0", "distance_to_centroid"),
            ("not_null", "segment_name"),
        },
    ),
    "pca_components": (
        ["update {t} set loading = 2, is_kept = null where component = 1"],
        {("max 1", "loading"), ("not_null", "is_kept")},
    ),
    "segmentation_metrics": (
        ["update {t} set test_generalisation_ari = -2, n_segments = null"],
        {("min -1", "test_generalisation_ari"), ("not_null", "n_segments")},
    ),
    "segment_quality": (
        ["update {t} set split = 'all', mean_silhouette = 3 where segment_id = 1 and split = 'test'"],
        {("accepted_values", "split"), ("max 1", "mean_silhouette")},
    ),
    "model_scoring_sql": (
        ["insert into {t} select * from {t} limit 1", "update {t} set scoring_sql = null where model_version = 1"],
        {("unique", "model_version"), ("not_null", "scoring_sql")},
    ),
    "stg_customers": (["insert into {t} select * from {t} limit 1"], {("unique", "source_row_number")}),
    "int_customers_cleaned": (
        ["insert into {t} select * from {t} limit 1"],
        {("unique", "customer_id"), ("unique", "source_row_number")},
    ),
    "int_customer_features_engineered": (["insert into {t} select * from {t} limit 1"], {("unique", "customer_id")}),
    "dim_customers": (["insert into {t} select * from {t} limit 1"], {("unique", "customer_id")}),
    "fct_campaign_audience": (["insert into {t} select * from {t} limit 1"], {("unique", "customer_id")}),
    "feature_transform_comparison": (
        ["update {t} set seed_stability = 2, smallest_segment_share = null where feature_transform = 'none'"],
        {("max 1", "seed_stability"), ("not_null", "smallest_segment_share")},
    ),
    "customer_segment_history": (
        ["insert into {t} select * from {t} limit 1"],
        {("unique", "customer_id, valid_from_build_id")},
    ),
    "feature_drift": (
        ["update {t} set psi = -1, js_distance = 2, customers = null where feature = 'balance'"],
        {("min 0", "psi"), ("max 1", "js_distance"), ("not_null", "customers")},
    ),
    "bi_exports": (
        ["insert into {t} select * from {t} limit 1", "update {t} set row_count = null where table_name like 'dim%'"],
        {("unique", "table_name"), ("not_null", "row_count")},
    ),
    "segment_campaigns": (
        [
            "insert into {t} select * from {t} limit 1",
            "update {t} set channel = 'fax', offer = null where segment_name = '*'",
        ],
        {("unique", "segment_name"), ("accepted_values", "channel"), ("not_null", "offer")},
    ),
    "segment_naming_rules": (
        [
            "update {t} set direction = 'sideways', min_z_score = -1 where rule_order = 1",
            "insert into {t} by name select 99 as rule_order, segment_name from {t} where rule_order = 2",
            "insert into {t} by name select rule_order, 'A new name' as segment_name, 'New.' as description"
            " from {t} where rule_order = 3",
        ],
        {
            ("accepted_values", "direction"),
            ("min 0", "min_z_score"),
            ("unique", "segment_name"),
            ("not_null", "description"),
            ("unique", "rule_order"),
        },
    ),
}

#: The seeds, whose columns column_checks checks (a seed has no contract).
SEEDS = ("segment_campaigns", "segment_naming_rules")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, DbtRun, dict]:
    """A demo build of the seeds and models (test_dbt_build runs every test on clean data), with its
    workspace and manifest."""
    workdir = tmp_path_factory.mktemp("constraints")
    run = run_dbt(workdir, "build", "--resource-type", "seed", "--resource-type", "model", variables=VARIABLES)
    assert run.returncode == 0, run.output[-4000:]
    manifest = json.loads((workdir / "target" / "manifest.json").read_text())
    return workdir, run.in_workspace(), manifest


def model_nodes(manifest: dict) -> dict[str, dict]:
    return {node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] == "model"}


def constraints_of(node: dict) -> list[tuple[str, tuple[str, ...]]]:
    """(type, columns) of every constraint of a model, column and model level."""
    found = [
        (constraint["type"], (name,))
        for name, column in node["columns"].items()
        for constraint in column["constraints"]
    ]
    return found + [(constraint["type"], tuple(constraint["columns"])) for constraint in node["constraints"]]


def check_expression(node: dict, column: str) -> str:
    constraints = node["columns"][column]["constraints"]
    (expression,) = [constraint["expression"] for constraint in constraints if constraint["type"] == "check"]
    return expression


def range_bounds(expression: str) -> tuple[str, str]:
    """A value in a column's check constraint and one that breaks it: the project writes
    them as ``<column> >= <min>``, ``<column> <= <max>``, ``<column> between <min> and <max>``
    or ``<column> in ('<value>', ...)``."""
    if match := re.fullmatch(r"\w+ in \(('[^']*')(?:, '[^']*')*\)", expression):
        return match.group(1), "'none of the accepted values'"
    if match := re.fullmatch(r"\w+ (?:>= (\S+)|between (\S+) and (\S+)|<= (\S+))", expression):
        at_least, low, high, at_most = match.groups()
        if at_least is not None:
            return at_least, f"{at_least} - 1"
        return (low or at_most), f"{high or at_most} + 1"
    raise AssertionError(f"check constraint {expression!r}: write it as >=, <= or between (see range_bounds)")


def test_the_contracted_models_are_the_sql_tables(built):
    _, _, manifest = built
    nodes = model_nodes(manifest)
    enforced = {name for name, node in nodes.items() if node["config"]["contract"]["enforced"]}
    assert enforced == set(CONTRACTED)
    python_models = {name for name, node in nodes.items() if node["language"] == "python"}
    assert set(VIOLATIONS) == python_models | set(PER_CUSTOMER_TABLES) | set(SEEDS)


def fresh_row(node: dict) -> str:
    """A row of -1 in every column (as text '-1', as a boolean true), but a bound of the
    range of a column with a check constraint."""

    def value(name: str, column: dict) -> str:
        checks = [constraint["expression"] for constraint in column["constraints"] if constraint["type"] == "check"]
        return range_bounds(checks[0])[0] if checks else f"cast(-1 as {column['data_type']})"

    values = ", ".join(f"{value(name, column)} as {name}" for name, column in node["columns"].items())
    return f"by name select {values}"


def bad_row(node: dict, kind: str, columns: tuple[str, ...]) -> str:
    """A copy of a row of the model's table that breaks one constraint: a null in the
    not_null column, or the same key; the columns of the model's other keys get a fresh
    value (-1), so that only this constraint is broken (but a key column with a check
    constraint of its own keeps its value: -1 would break that check first)."""
    checked = {key[0] for kind, key in constraints_of(node) if kind == "check"}
    other_keys = (
        {column for other, key in constraints_of(node) if other in ("primary_key", "unique") for column in key}
        - set(columns)
        - checked
    )
    replaced = {column: f"cast(-1 as {node['columns'][column]['data_type']})" for column in sorted(other_keys)}
    if kind == "not_null":
        replaced[columns[0]] = "null"
    if kind == "check":
        replaced[columns[0]] = range_bounds(check_expression(node, columns[0]))[1]
    replace = (
        f" replace ({', '.join(f'{value} as {column}' for column, value in replaced.items())})" if replaced else ""
    )
    present = " and ".join(f"{column} is not null" for column in columns)
    return f"select *{replace} from {node['name']} where {present} limit 1"


@pytest.mark.parametrize("model", CONTRACTED)
def test_every_constraint_of_a_contracted_table_refuses_a_bad_row(built, model):
    """A row with a null in a not_null column, a value out of a check constraint's range, or
    a copy of a row (same key), is refused by the table dbt built, with an error naming the
    column."""
    _, workspace, manifest = built
    node = model_nodes(manifest)[model]
    constraints = constraints_of(node)
    assert constraints, f"{model} has no constraint"
    with duckdb.connect(str(workspace.database)) as connection:
        for kind, columns in constraints:
            connection.execute("begin")
            if connection.execute(f"select count(*) from {model}").fetchone()[0] == 0:  # no rejects in the demo
                connection.execute(f"insert into {model} {fresh_row(node)}")
            with pytest.raises(duckdb.ConstraintException) as refused:
                connection.execute(f"insert into {model} {bad_row(node, kind, columns)}")
            connection.execute("rollback")
            message = str(refused.value)
            if kind == "not_null":
                assert re.search(rf'NOT NULL constraint failed: {model}\."?{columns[0]}\b', message), (columns, message)
            elif kind == "check":
                named = rf'CHECK constraint failed on table "?{model}"? with expression CHECK\(\("?{columns[0]}"? '
                assert re.search(named, message), message
            else:
                # A key already committed: "Duplicate key "<column>: <value>" violates ...";
                # one inserted in this transaction: "PRIMARY KEY or UNIQUE constraint violation".
                named = "Duplicate key" in message and all(column in message for column in columns)
                assert named or "PRIMARY KEY or UNIQUE constraint violation" in message, message


def dim_customers_over_changed_segments(built, change: str, command: str) -> DbtRun:
    """``dbt <command> --select dim_customers`` after the SQL ``change`` altered
    customer_segments (a copy of it is ``customer_segments_before``), in the build's own
    workspace (dbt then reuses the build's parse); customer_segments is restored afterwards."""
    workdir, workspace, _ = built
    with duckdb.connect(str(workspace.database)) as connection:
        connection.execute("create table customer_segments_before as select * from customer_segments")
        connection.execute(change)
    try:
        return run_dbt(workdir, command, "--select", "dim_customers", variables=VARIABLES)
    finally:
        with duckdb.connect(str(workspace.database)) as connection:
            connection.execute("create or replace table customer_segments as select * from customer_segments_before")
            connection.execute("drop table customer_segments_before")


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            "update customer_segments set segment_name = null"
            " where customer_id = (select min(customer_id) from customer_segments)",
            r"NOT NULL constraint failed: dim_customers\w*\.segment_name",
        ),
        (
            "insert into customer_segments select * from customer_segments limit 1",
            r"FAIL 1 column_checks_dim_customers_customer_id",
        ),
    ],
    ids=["null", "duplicate"],
)
def test_a_bad_upstream_row_fails_the_run_of_a_contracted_mart(built, tamper, expected):
    """dbt build of dim_customers over a broken customer_segments fails: a null by the
    contract's not_null constraint (naming the column), a duplicate by its column_checks
    test (the key of a per-customer table is checked by one query, not by a primary_key
    constraint, whose index DuckDB keeps in memory)."""
    # A failed run keeps the last good dim_customers.
    result = dim_customers_over_changed_segments(built, tamper, "build")
    assert result.returncode != 0, result.output[-3000:]
    assert re.search(expected, result.output), result.output[-3000:]


def test_dim_customers_pairs_rows_by_position_only_when_the_ids_line_up(built):
    """dim_customers pairs customer_segments with int_customers_cleaned by position when
    their ids are in the same order (as a build writes them: macros/rows_aligned.sql
    checks it), and joins them on customer_id when they are not, with the same rows."""
    workdir, workspace, _ = built
    compiled = workdir / "target" / "compiled" / "customer_segmentation" / "models" / "marts" / "dim_customers.sql"
    in_order = run_dbt(workdir, "run", "--select", "dim_customers", variables=VARIABLES)
    assert in_order.returncode == 0, in_order.output[-3000:]
    assert "positional join customers" in compiled.read_text()
    assert "not in the same row order" not in in_order.output
    by_position = workspace.query("select * from dim_customers order by customer_id")
    shuffled = dim_customers_over_changed_segments(
        built,
        "create or replace table customer_segments as "
        "select * from customer_segments_before order by hash(customer_id)",
        "run",
    )
    assert shuffled.returncode == 0, shuffled.output[-3000:]
    assert "customer_segments and int_customers_cleaned are not in the same row order" in shuffled.output
    assert "positional join" not in compiled.read_text()
    assert "inner join customers on segments.customer_id = customers.customer_id" in compiled.read_text()
    by_key = workspace.query("select * from dim_customers order by customer_id")
    assert len(by_key) == len(by_position) > 0
    pd.testing.assert_frame_equal(by_key, by_position)


def test_the_audience_check_names_a_clean_customer_left_out_and_strangers(built):
    """assert_every_clean_customer_has_one_campaign, one aggregate over the ids of
    int_customers_cleaned, dim_customers and fct_campaign_audience, fails on an audience
    that lost a clean customer and gained a customer nobody knows, and on a dim_customers
    that gained a customer who is not clean, and names all three."""
    workdir, workspace, _ = built
    with duckdb.connect(str(workspace.database)) as connection:
        connection.execute("create table audience_before as select * from fct_campaign_audience")
        (left_out,) = connection.execute("select min(customer_id) from fct_campaign_audience").fetchone()
        connection.execute("delete from fct_campaign_audience where customer_id = ?", [left_out])
        connection.execute(
            "insert into fct_campaign_audience select * replace ('NOBODY' as customer_id) from audience_before limit 1"
        )
        connection.execute(
            "insert into dim_customers select * replace ('STRANGER' as customer_id) from dim_customers limit 1"
        )
    try:
        test = "assert_every_clean_customer_has_one_campaign"
        result = run_dbt(workdir, "test", "--select", test, "--store-failures", variables=VARIABLES)
        failures = workspace.query(
            "select customer_id, is_clean, is_in_dim_customers, expected_rows, campaign_rows "
            f"from main_dbt_test__audit.{test} order by customer_id"
        )
    finally:
        with duckdb.connect(str(workspace.database)) as connection:
            # The table keeps its contract's constraints: its rows are put back, not the table.
            connection.execute("delete from fct_campaign_audience")
            connection.execute("insert into fct_campaign_audience select * from audience_before")
            connection.execute("drop table audience_before")
            connection.execute("delete from dim_customers where customer_id = 'STRANGER'")
    assert result.returncode != 0, result.output[-3000:]
    assert failures.values.tolist() == [[left_out, 1, 1, 1, 0], ["NOBODY", 0, 0, 0, 1], ["STRANGER", 0, 1, 0, 0]]


@pytest.fixture(scope="module")
def column_checks_failed(built):
    """Every table of VIOLATIONS broken, then one ``dbt test`` of the column_checks
    tests, storing their failures."""
    workdir, workspace, manifest = built
    with duckdb.connect(str(workspace.database)) as connection:
        for model, (statements, _) in VIOLATIONS.items():
            for statement in statements:
                connection.execute(statement.format(t=model))
    result = run_dbt(workdir, "test", "--select", "test_name:column_checks", "--store-failures", variables=VARIABLES)
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    tests = {node["unique_id"]: node for node in manifest["nodes"].values() if node["resource_type"] == "test"}
    by_model = {}
    for item in results:
        if item["unique_id"] not in tests:
            continue  # the on-run-start and on-run-end hooks
        model = tests[item["unique_id"]]["attached_node"].split(".")[-1]
        by_model.setdefault(model, []).append(item)
    return result, by_model, workspace


@pytest.mark.parametrize("model", sorted(VIOLATIONS))
def test_column_checks_fail_on_each_broken_guarantee(column_checks_failed, model):
    result, by_model, workspace = column_checks_failed
    assert result.returncode != 0
    _, expected = VIOLATIONS[model]
    found = set()
    for item in by_model[model]:
        assert item["status"] == "fail", item
        rows = workspace.query(f"select failed_check, column_name from {item['relation_name']}")
        found |= set(rows.itertuples(index=False, name=None))
    assert found == expected, (model, found)
    assert item["failures"] == len(rows)
