"""Documentation, primary keys, contracts, the BI marts, their Parquet exports and the
example analyses, on a real build of the demo data with `dbt docs generate`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from tests.conftest import CLUSTERING_FEATURES, REPO_ROOT, build_ok, run_dbt

pytestmark = pytest.mark.dbt

PACKAGE = "customer_segmentation"
#: Columns documented as a family by their first member (the reducer's component count
#: depends on the data).
COLUMN_FAMILIES = {re.compile(r"component_\d+"): "component_1"}
BI_MARTS = ("dim_customers", "dim_segments", "fct_campaign_audience")


@pytest.fixture(scope="module")
def documented(tmp_path_factory):
    """A demo build with every model (reducer comparison included), and its docs (dbt docs
    generate compiles every node first: the analyses among them)."""
    workdir = tmp_path_factory.mktemp("documented")
    run = build_ok(workdir)
    result = run_dbt(workdir, "docs", "generate")
    assert result.returncode == 0, result.output[-4000:]
    target = workdir / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    return run, workdir, manifest, catalog


def project_nodes(manifest: dict, resource_types=("model", "seed")) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["package_name"] == PACKAGE and node["resource_type"] in resource_types
    ]


def documented_name(column: str, documented: dict) -> str | None:
    if column in documented:
        return column
    for pattern, first in COLUMN_FAMILIES.items():
        if pattern.fullmatch(column) and first in documented:
            return first
    return None


def test_every_model_seed_and_column_is_described(documented):
    _, _, manifest, catalog = documented
    problems = []
    nodes = project_nodes(manifest)
    assert len(nodes) > 25 and sum(node["unique_id"] in catalog["nodes"] for node in nodes) > 25
    for node in nodes:
        if not node["description"].strip():
            problems.append(f"{node['name']}: no description")
        documented_columns = {name: column["description"] for name, column in node["columns"].items()}
        for name, description in documented_columns.items():
            if not description.strip():
                problems.append(f"{node['name']}.{name}: no description")
        built = catalog["nodes"].get(node["unique_id"])
        if built is None:
            continue  # ephemeral: no table to compare with
        built_columns = {name.lower() for name in built["columns"]}
        for name in sorted(built_columns):
            if documented_name(name, {k.lower(): v for k, v in documented_columns.items()}) is None:
                problems.append(f"{node['name']}.{name}: column not documented")
        for name in documented_columns:
            if name.lower() not in built_columns:
                problems.append(f"{node['name']}.{name}: documented but not in the table")
    assert not problems, "\n".join(problems)


def primary_key_constraint(node: dict) -> list[str] | None:
    """The columns of the primary_key constraint of a model with an enforced contract."""
    if not node["config"].get("contract", {}).get("enforced"):
        return None
    for constraint in node.get("constraints", []):
        if constraint["type"] == "primary_key":
            return constraint["columns"]
    for name, column in node["columns"].items():
        if any(constraint["type"] == "primary_key" for constraint in column.get("constraints", [])):
            return [name]
    return None


def test_every_primary_key_is_enforced(documented):
    """Each table's meta.primary_key is enforced: by a primary_key constraint of its
    enforced contract (small SQL tables), by a column_checks test with that key (Python
    models, the seeds, and the per-customer SQL tables, whose key columns are also not_null
    constraints), or by unique and not_null tests (unique_combination_of_columns for a composite key)."""
    _, _, manifest, _ = documented
    tests_by_node: dict[str, list[dict]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("attached_node"):
            tests_by_node.setdefault(node["attached_node"], []).append(node)
    problems = []
    for node in project_nodes(manifest):
        if node["config"]["materialized"] in ("ephemeral", "view"):
            continue  # no table of their own: their declared keys are checked by test_governance
        key = node["config"].get("meta", {}).get("primary_key")
        if not key:
            problems.append(f"{node['name']}: no meta.primary_key")
            continue
        tests = tests_by_node.get(node["unique_id"], [])
        checked_keys = [
            test["test_metadata"]["kwargs"]["key"]
            for test in tests
            if test.get("test_metadata", {}).get("name") == "column_checks"
        ]
        if node["resource_type"] == "model" and node["language"] == "sql":
            not_null = {name for name, column in node["columns"].items() for c in column["constraints"]}
            by_check = key in checked_keys and set(key) <= not_null
            if primary_key_constraint(node) != key and not by_check:
                problems.append(
                    f"{node['name']}: primary key {key} is neither the primary_key constraint of its contract "
                    "nor a column_checks key with not_null constraints"
                )
            continue
        if node["resource_type"] == "model" and node["language"] == "python":
            checks = [test for test in tests if test.get("test_metadata", {}).get("name") == "column_checks"]
            if [test["test_metadata"]["kwargs"]["key"] for test in checks] != [key]:
                problems.append(f"{node['name']}: primary key {key} is not the key of one column_checks test")
            continue
        if key in checked_keys:
            continue  # a seed whose columns one column_checks test checks, key included
        kinds = {
            (test["test_metadata"]["name"], test.get("column_name")) for test in tests if test.get("test_metadata")
        }
        for column in key:
            if ("not_null", column) not in kinds:
                problems.append(f"{node['name']}: primary key column {column} has no not_null test")
        if len(key) == 1:
            if ("unique", key[0]) not in kinds:
                problems.append(f"{node['name']}: primary key {key[0]} has no unique test")
        elif not any(
            test.get("test_metadata", {}).get("name") == "unique_combination_of_columns"
            and sorted(test["test_metadata"]["kwargs"]["combination_of_columns"]) == sorted(key)
            for test in tests
        ):
            problems.append(f"{node['name']}: primary key {key} has no unique_combination_of_columns test")
    assert not problems, "\n".join(problems)


def test_every_sql_table_has_an_enforced_contract(documented):
    """Every SQL model built as a table enforces its contract (so its constraints)."""
    _, _, manifest, _ = documented
    missing = [
        node["name"]
        for node in project_nodes(manifest, ("model",))
        if node["language"] == "sql"
        and node["config"]["materialized"] == "table"
        and not node["config"]["contract"]["enforced"]
    ]
    assert not missing, missing


def test_bi_marts_have_enforced_contracts_and_exposures_use_them(documented):
    _, _, manifest, _ = documented
    nodes = {node["name"]: node for node in project_nodes(manifest)}
    for name in BI_MARTS:
        assert nodes[name]["config"]["contract"]["enforced"], name
        assert all(column["data_type"] for column in nodes[name]["columns"].values()), name
    exposures = {exposure["name"]: exposure for exposure in manifest["exposures"].values()}
    assert set(exposures) == {"segmentation_report", "campaign_dashboard"}
    dashboard = exposures["campaign_dashboard"]["depends_on"]["nodes"]
    assert {f"model.{PACKAGE}.{name}" for name in BI_MARTS} <= set(dashboard)


def test_every_var_is_documented_in_the_parameters_page():
    variables = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]
    page = (REPO_ROOT / "docs" / "parameters.md").read_text()
    missing = [name for name in variables if f"`{name}`" not in page]
    assert not missing, f"vars missing from docs/parameters.md's Parameters table: {missing}"


def test_segmentation_features_lists_the_declared_features_with_their_descriptions(documented):
    """The build's list of clustering features is the yml's: every column marked
    clustering_feature, in order, with its description; the fit used exactly these."""
    run, _, manifest, _ = documented
    listed = run.query("select * from segmentation_features order by feature_position")
    assert tuple(listed["feature"]) == tuple(CLUSTERING_FEATURES)
    assert listed["feature_position"].tolist() == list(range(1, len(CLUSTERING_FEATURES) + 1))
    node = manifest["nodes"][f"model.{PACKAGE}.int_customer_features_engineered"]
    assert listed["description"].tolist() == [
        node["columns"][name]["description"].strip() for name in listed["feature"]
    ]
    fitted = run.query("select features from segmentation_models order by model_version desc limit 1")
    assert tuple(fitted["features"].iloc[0]) == tuple(CLUSTERING_FEATURES)


def test_a_type_change_in_a_contracted_mart_fails_the_build(documented, tmp_path):
    """Breaking the contract of dim_segments (segment_id as text) stops the build."""
    _, workdir, _, _ = documented
    project = tmp_path / "project"
    generated = {".venv", ".git", "target", "logs", "warehouse", "exports", "build"}
    shutil.copytree(
        REPO_ROOT,
        project,
        ignore=lambda folder, names: [name for name in names if Path(folder) == REPO_ROOT and name in generated],
    )
    model = project / "models" / "marts" / "dim_segments.sql"
    model.write_text(
        model.read_text().replace(
            "        profiles.segment_id,", "        cast(profiles.segment_id as varchar) as segment_id,"
        )
    )
    shutil.copy(workdir / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    result = run_dbt_in(project, tmp_path, "run", "--select", "dim_segments")
    assert result.returncode != 0
    assert "contract" in result.output.lower() and "segment_id" in result.output
    # The warehouse still has the last good dim_segments, with its integer ids.
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as connection:
        assert connection.execute("select typeof(segment_id) from dim_segments limit 1").fetchone()[0] == "INTEGER"


def run_dbt_in(project: Path, workdir: Path, *args: str):
    """run_dbt against another copy of the project."""
    import os
    import subprocess

    from tests.conftest import DBT, DbtRun

    database = workdir / "warehouse.duckdb"
    env = {**os.environ, "DBT_DUCKDB_PATH": str(database)}
    command = [str(DBT), *args, "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs")]
    completed = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, check=False)
    return DbtRun(completed.returncode, completed.stdout + completed.stderr, database)


def test_marts_profile_the_segments_and_give_every_customer_one_campaign(documented):
    run, _, _, _ = documented
    customers = run.scalar("select count(*) from int_customers_cleaned")
    atypical = run.scalar("select count(*) from dim_customers where is_atypical")
    audience = run.query("select * from fct_campaign_audience")
    # Every clean customer once, but the atypical ones (var atypical_customers: exclude, the default).
    assert 0 < atypical < 0.02 * customers
    assert len(audience) == customers - atypical and audience["customer_id"].is_unique
    assert not audience["is_atypical"].any()
    assert audience["campaign"].notna().all()
    segments = run.query("select * from dim_segments order by segment_id")
    assert segments["customer_count"].sum() == customers
    campaigns = pd.read_csv(REPO_ROOT / "seeds" / "segment_campaigns.csv").set_index("segment_name")
    for row in segments.itertuples():
        assert row.campaign == campaigns.loc[row.segment_name, "campaign"]
    # z-scores: the customer-weighted mean of the segment means is the overall mean.
    overall = run.scalar("select avg(balance) from dim_customers")
    weighted = (segments["avg_balance"] * segments["customer_count"]).sum() / customers
    assert weighted == pytest.approx(overall)
    assert (segments["z_balance"] * segments["customer_count"]).sum() == pytest.approx(0, abs=1e-3 * customers)
    medians = run.query("select segment_id, median(balance) as m from dim_customers group by 1 order by 1")
    assert segments["median_balance"].to_numpy() == pytest.approx(medians["m"].to_numpy())


def test_exploration_marts(documented):
    run, _, _, _ = documented
    summary = run.query("select * from rpt_feature_summary").set_index(["feature_set", "feature"])
    assert len(summary.loc["clustering feature"]) == len(CLUSTERING_FEATURES)
    raw = summary.loc["raw column"]
    seed = pd.read_csv(REPO_ROOT / "seeds" / "demo_customers.csv")
    assert raw.loc["minimum_payments", "null_count"] == seed["MINIMUM_PAYMENTS"].isna().sum()
    assert raw.loc["balance", "value_count"] == len(seed)
    assert raw.loc["balance", "mean_value"] == pytest.approx(seed["BALANCE"].mean())
    assert raw.loc["purchases", "skewness"] > 1  # why the features take logs
    assert raw.loc["cash_advance", "zero_share"] == pytest.approx((seed["CASH_ADVANCE"] == 0).mean())
    correlations = run.query("select * from rpt_feature_correlations")
    assert len(correlations) == len(CLUSTERING_FEATURES) ** 2
    matrix = correlations.pivot(index="feature_a", columns="feature_b", values="correlation")
    assert (matrix.to_numpy().diagonal() == 1).all()
    assert matrix.to_numpy() == pytest.approx(matrix.to_numpy().T)
    features = run.query("select balance, credit_limit from int_customer_features_engineered")
    assert matrix.loc["balance", "credit_limit"] == pytest.approx(
        features["balance"].corr(features["credit_limit"]), abs=1e-8
    )
    distributions = run.query("select * from rpt_segment_distributions")
    everyone = distributions.loc[distributions["segment_id"] == 0].set_index("attribute")
    assert everyone.loc["balance", "customer_count"] == run.scalar("select count(*) from dim_customers")
    ordered = distributions[["min_value", "p05", "p25", "p50", "p75", "p95", "max_value"]].to_numpy()
    assert (ordered[:, 1:] >= ordered[:, :-1] - 1e-9).all()


def test_parquet_exports_match_the_marts_and_read_from_duckdb_and_pandas(documented):
    run, _, _, _ = documented
    exports = run.query("select * from bi_exports").set_index("table_name")
    assert set(BI_MARTS) <= set(exports.index)
    for name, row in exports.iterrows():
        path = Path(row["path"])
        # The path readers use: under export_path, a link to the published build's exports.
        assert path.parent == run.exports and run.exports.is_symlink()
        assert row["row_count"] == run.scalar(f"select count(*) from {name}")
        assert len(pd.read_parquet(path)) == row["row_count"]
    with duckdb.connect() as connection:  # a reader that never opens the warehouse
        joined = connection.execute(
            f"select count(*) from read_parquet('{exports.loc['dim_customers', 'path']}') as c "
            f"inner join read_parquet('{exports.loc['fct_campaign_audience', 'path']}') as a using (customer_id)"
        ).fetchone()[0]
    assert joined == exports.loc["fct_campaign_audience", "row_count"]
    assert not list(run.exports.glob(".*.tmp"))  # no temporary file left behind


def test_example_analyses_compile_and_run(documented):
    run, workdir, _, _ = documented
    compiled = workdir / "target" / "compiled" / PACKAGE / "analyses"
    assert {path.stem for path in compiled.glob("*.sql")} == {
        "segment_mix_by_tenure",
        "top_customers_of_campaign",
        "segment_drift_between_versions",
        "score_customers_with_a_stored_version",
    }
    mix = run.query((compiled / "segment_mix_by_tenure.sql").read_text())
    assert mix.groupby("tenure")["share_of_tenure"].sum().to_numpy() == pytest.approx(1.0)
    top = run.query((compiled / "top_customers_of_campaign.sql").read_text())
    assert 0 < len(top) <= 100 and top["confidence"].is_monotonic_decreasing
    # One model version so far: no drift to show yet, and the query still runs.
    assert run.query((compiled / "segment_drift_between_versions.sql").read_text()).empty
    # score_customers on the engineered features gives customer_segments back exactly.
    scored = run.in_workspace().query((compiled / "score_customers_with_a_stored_version.sql").read_text())
    assert scored["customer_count"].sum() == run.scalar("select count(*) from customer_segments")
    assert (scored["same_segment_count"] == scored["customer_count"]).all()
    assert scored["max_distance_difference"].max() == 0.0
    assert scored["model_version"].tolist() == [1] * len(scored)


def customers_by_macro(documented, macro: str, arguments: str = "") -> pd.DataFrame:
    """What ``macro`` (score_customers, explain_customers) gives for the test customers,
    compiled by dbt and run on the build's workspace."""
    run, workdir, _, _ = documented
    inline = (
        f"select * from {{{{ {macro}('(select * from ' ~ ref('int_customer_features_engineered') "
        f"~ ' where split = \\'test\\')'{arguments}) }}}}"
    )
    compiled = run_dbt(workdir, "--quiet", "compile", "--inline", inline)
    assert compiled.returncode == 0, compiled.output[-3000:]
    return run.in_workspace().query(compiled.output)


def test_score_customers_scores_any_relation_with_a_chosen_version(documented):
    """The macro on a hand-made relation (the test customers, a few columns renamed back)
    with an explicit version; a version that is not stored stops with the stored ones."""
    run, workdir, _, _ = documented
    scored = customers_by_macro(documented, "score_customers", ", model_version=1")
    expected = run.query("select * exclude (split) from customer_segments where split = 'test'")
    assert len(scored) == len(expected) > 0
    pd.testing.assert_frame_equal(
        scored.sort_values("customer_id", ignore_index=True), expected.sort_values("customer_id", ignore_index=True)
    )

    missing = run_dbt(workdir, "compile", "--inline", "select * from {{ score_customers('x', model_version=99) }}")
    assert missing.returncode != 0
    assert "model version 99 is not stored in segmentation_models; stored versions: [1]" in missing.output


def test_explain_customers_explains_any_relation_as_the_reasons_mart(documented):
    """explain_customers on the test customers gives the rows of customer_segment_reasons
    for them: the same SQL from the same stored version."""
    run = documented[0]
    explained = customers_by_macro(documented, "explain_customers")
    expected = run.query(
        "select reasons.* from customer_segment_reasons as reasons inner join customer_segments using (customer_id) "
        "where customer_segments.split = 'test'"
    )
    assert len(explained) == len(expected) > 0
    order = ["customer_id", "reason_rank"]
    pd.testing.assert_frame_equal(
        explained.sort_values(order, ignore_index=True), expected.sort_values(order, ignore_index=True)
    )
