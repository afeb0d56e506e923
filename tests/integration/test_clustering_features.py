"""Adding a clustering feature is one SQL expression plus its yml entry.

A copy of the project gains a toy feature, written the way the docs say
(docs/architecture.md, "to add X"): its expression in int_customer_features_engineered
and its column entry, marked ``clustering_feature``, in the model's yml. Nothing else
changes, and a real dbt run clusters it (the registry's features and arrays), scores with
it (the scoring SQL), documents it (segmentation_features, the manifest) and profiles it
(rpt_feature_summary).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from segmentation.serving.publish import BuildArea
from tests.conftest import CLUSTERING_FEATURES, DBT, REPO_ROOT

pytestmark = pytest.mark.dbt

TOY = "cash_advance_share"
TOY_EXPRESSION = "monthly_cash_advance / (monthly_cash_advance + monthly_purchases + 1)"
TOY_DESCRIPTION = "Share of the monthly card use that is cash advance (toy feature of the test)."
TOY_ENTRY = f"""      - name: {TOY}
        data_type: double
        config:
          meta:
            clustering_feature: true
            unit: share
        description: {TOY_DESCRIPTION}
        constraints:
          - type: not_null
"""
GENERATED = {".venv", ".git", "target", "logs", "warehouse", "exports", "build", "reports"}


def add_toy_feature(project: Path) -> None:
    """The two edits of docs/architecture.md: the SQL expression, the yml entry."""
    model = project / "models" / "intermediate" / "int_customer_features_engineered.sql"
    sql = model.read_text()
    last = "        prc_full_payment\n    from rates"
    assert last in sql, "the final select of int_customer_features_engineered changed: update this test"
    model.write_text(sql.replace(last, f"        prc_full_payment,\n        {TOY_EXPRESSION} as {TOY}\n    from rates"))
    yml = project / "models" / "intermediate" / "_intermediate__models.yml"
    lines = yml.read_text().splitlines(keepends=True)
    start = lines.index("  - name: int_customer_features_engineered\n")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("  - name:")), len(lines))
    yml.write_text("".join([*lines[:end], TOY_ENTRY, *lines[end:]]))


@pytest.fixture(scope="module")
def toy_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy_feature")
    project = root / "project"
    shutil.copytree(
        REPO_ROOT,
        project,
        ignore=lambda folder, names: [n for n in names if Path(folder) == REPO_ROOT and n in GENERATED],
    )
    add_toy_feature(project)
    published = root / "warehouse.duckdb"
    # The models that show the feature clustered, scored, listed and profiled; their data
    # tests run in every other build, so this part without its tests is enough here.
    selected = ["+model_scoring_sql", "+customer_segments", "+rpt_feature_summary", "segmentation_features"]
    command = [str(DBT), "build", "--select", *selected, "--exclude-resource-type", "test", "unit_test"]
    command += ["--target-path", str(root / "target"), "--log-path", str(root / "logs")]
    command += ["--vars", f'{{"export_path": "{root / "exports"}", "compare_reducers": false, "elbow_max_k": 4}}']
    env = {**os.environ, "DBT_DUCKDB_PATH": str(published), "TF_CPP_MIN_LOG_LEVEL": "3"}
    completed = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-6000:]
    return BuildArea.of_published(published).workspace, root


def query(database: Path, sql: str):
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.sql(sql).fetchall()


def test_the_toy_feature_is_listed_and_documented(toy_build):
    database, _ = toy_build
    listed = query(database, "select feature, description from segmentation_features order by feature_position")
    assert [name for name, _ in listed] == [*CLUSTERING_FEATURES, TOY]
    assert listed[-1][1] == TOY_DESCRIPTION


def test_the_toy_feature_is_clustered_and_scored(toy_build):
    database, _ = toy_build
    [(features, scaler_mean, kernel_rows)] = query(
        database,
        "select features, scaler_mean, len(reducer_layers[1].kernel) from segmentation_models "
        "order by model_version desc limit 1",
    )
    assert features == [*CLUSTERING_FEATURES, TOY]
    assert len(scaler_mean) == kernel_rows == len(CLUSTERING_FEATURES) + 1
    [(scoring_sql,)] = query(database, "select scoring_sql from model_scoring_sql order by model_version desc limit 1")
    assert TOY in scoring_sql
    segmented = query(database, "select count(*), count(distinct segment_id) from customer_segments")
    assert segmented == [(query(database, "select count(*) from int_customer_features_engineered")[0][0], 3)]


def test_the_toy_feature_is_profiled(toy_build):
    database, _ = toy_build
    rows = query(database, f"select count(*) from rpt_feature_summary where feature = '{TOY}'")
    assert rows[0][0] >= 1


def test_a_clustering_feature_without_a_unit_stops_the_build_saying_what_to_add(toy_build):
    """A feature marked clustering_feature with no `unit` (or an unknown one) stops dbt
    before any model, naming the feature and the units it can take (rather than a check
    constraint failing deep in segmentation_features)."""
    _, root = toy_build
    project = root / "project"
    entries = project / "models" / "intermediate" / "_intermediate__models.yml"
    declared = entries.read_text()
    assert declared.count(TOY_ENTRY) == 1
    entries.write_text(declared.replace(TOY_ENTRY, TOY_ENTRY.replace("            unit: share\n", "")))
    try:
        command = [str(DBT), "compile", "--select", "segmentation_features"]
        command += ["--target-path", str(root / "target_no_unit"), "--log-path", str(root / "logs_no_unit")]
        env = {**os.environ, "DBT_DUCKDB_PATH": str(root / "no_unit.duckdb")}
        completed = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, check=False)
    finally:
        entries.write_text(declared)
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0, output[-3000:]
    assert f"clustering feature {TOY} of int_customer_features_engineered: meta unit is ''" in output, output[-3000:]
    assert "unit: currency | share | count | ratio" in output, output[-3000:]
