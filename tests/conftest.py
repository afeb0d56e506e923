"""Shared pytest fixtures: paths, and a runner for real dbt builds into temporary files."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import make_blobs

from segmentation.serving.publish import BuildArea

REPO_ROOT = Path(__file__).resolve().parents[1]
FEATURES_YML = REPO_ROOT / "models" / "intermediate" / "_intermediate__models.yml"


def declared_clustering_features(path: Path = FEATURES_YML) -> dict[str, str]:
    """The clustering features as declared, in order, each with its transform (``log`` or
    ``none``): the columns of int_customer_features_engineered marked
    ``meta: {clustering_feature: true}`` (what the ``segmentation_features`` model lists
    in a build, and what the fit takes)."""
    models = yaml.safe_load(path.read_text())["models"]
    columns = next(model["columns"] for model in models if model["name"] == "int_customer_features_engineered")
    metas = [(column["name"], column.get("config", {}).get("meta", {})) for column in columns]
    return {name: meta.get("transform", "none") for name, meta in metas if meta.get("clustering_feature")}


CLUSTERING_FEATURES = declared_clustering_features()
CC_GENERAL_CSV = REPO_ROOT.parent / "shared" / "data" / "cc_general.csv"
DEMO_SEED_CSV = REPO_ROOT / "seeds" / "demo_customers.csv"
DEMO_GROUPS_CSV = REPO_ROOT / "tests" / "data" / "demo_customer_groups.csv"
DBT = Path(sys.executable).with_name("dbt")
NAMING_RULES_CSV = REPO_ROOT / "seeds" / "segment_naming_rules.csv"


@dataclass
class DbtRun:
    """The outcome of one ``dbt`` invocation into its own DuckDB file.

    ``database`` is the published warehouse readers open (what a build that passed
    everything published); :meth:`in_workspace` reads the build workspace instead (every
    table of the last run, failed or not)."""

    returncode: int
    output: str
    database: Path

    @property
    def exports(self) -> Path:
        """The exports folder readers open when var export_path is left empty (the default)."""
        return BuildArea.of_published(self.database).default_exports

    @property
    def workspace(self) -> Path:
        return BuildArea.of_published(self.database).workspace

    def in_workspace(self) -> DbtRun:
        return DbtRun(self.returncode, self.output, self.workspace)

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.database), read_only=True) as connection:
            return connection.sql(sql).df()

    def scalar(self, sql: str):
        with duckdb.connect(str(self.database), read_only=True) as connection:
            return connection.execute(sql).fetchone()[0]

    def arrow(self, sql: str):
        with duckdb.connect(str(self.database), read_only=True) as connection:
            return connection.sql(sql).to_arrow_table()


#: Where run_dbt runs dbt: in this pytest process through dbt's programmatic entry point
#: (dbtRunner, as dbt's own functional tests do), which saves each invocation the start-up
#: of a new Python (importing dbt, then pandas and scikit-learn for the Python models:
#: about 4 s of a 9 s failed-vars run; the suite's summed test time fell by 11%), or, with
#: SEGMENTATION_TEST_DBT=subprocess, as the command line the README gives. The tests
#: that kill builds, hold locks or read the process's loaded modules start their own
#: processes (dbt_invocation) either way.
DBT_IN_PROCESS = os.environ.get("SEGMENTATION_TEST_DBT", "in-process") != "subprocess"


def run_dbt(workdir: Path, *args: str, variables: dict | None = None, database: Path | None = None) -> DbtRun:
    """Run ``dbt <args>`` from the repo root into ``workdir/warehouse.duckdb`` (published;
    the workspace beside it), or into ``database``.

    Target, log and export folders go to ``workdir`` too, so that builds never share state.
    """
    command, env = dbt_invocation(workdir, *args, variables=variables, database=database)
    if DBT_IN_PROCESS:
        returncode, output = dbt_in_process(command[1:], env)
    else:
        completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
        returncode, output = completed.returncode, completed.stdout + completed.stderr
    return DbtRun(returncode, output, Path(env["DBT_DUCKDB_PATH"]))


def dbt_in_process(args: list[str], env: dict) -> tuple[int, str]:
    """``dbt <args>`` through dbtRunner in this process, with ``env`` as its environment
    and the repo root as its working directory: the exit code the command line would
    give (0 success, 1 a failed node, 2 an error) and everything it printed. Afterwards
    nothing of the invocation stays open: its DuckDB database is closed and its build
    lock released, as when a dbt process ends."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    from segmentation.serving.publish.lock import release_build_locks

    saved_environment, saved_directory = dict(os.environ), os.getcwd()
    output = io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(REPO_ROOT)
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            result = dbtRunner().invoke(args)
            if result.exception is not None:
                print(f"{type(result.exception).__name__}: {result.exception}")
                # Its traceback's frames would keep the invocation's DuckDB database open.
                result.exception.__traceback__ = None
    finally:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if environment is not None:
            with contextlib.suppress(Exception):
                environment.close()
        del environment
        gc.collect()
        release_build_locks()
        os.chdir(saved_directory)
        os.environ.clear()
        os.environ.update(saved_environment)
    returncode = 0 if result.success else (1 if result.exception is None else 2)
    return returncode, output.getvalue()


def dbt_invocation(
    workdir: Path, *args: str, variables: dict | None = None, database: Path | None = None
) -> tuple[list[str], dict]:
    """The command line and environment of ``dbt <args>`` into ``workdir`` (see run_dbt)."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [str(DBT), *args, "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs")]
    # The Parquet exports go to the warehouse's own folder beside it (the default,
    # workdir/warehouse_exports), not into the repo.
    if variables:
        command += ["--vars", json.dumps(variables)]
    database = database or workdir / "warehouse.duckdb"
    env = {**os.environ, "DBT_DUCKDB_PATH": str(database), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return command, env


def build_ok(workdir: Path, variables: dict | None = None, database: Path | None = None) -> DbtRun:
    """A ``dbt build`` that must succeed; fails the test with dbt's output otherwise."""
    run = run_dbt(workdir, "build", variables=variables, database=database)
    assert run.returncode == 0, f"dbt build failed:\n{run.output[-6000:]}"
    return run


MF = Path(sys.executable).with_name("mf")


class MetricFlow:
    """``mf`` as a user runs it, from the repository root, on the published warehouse
    ``database`` (DBT_DUCKDB_PATH); its logs and query results go to ``workdir``."""

    def __init__(self, database: Path, workdir: Path):
        self.workdir = workdir
        self.env = {
            **os.environ,
            "DBT_DUCKDB_PATH": str(database),
            "DBT_LOG_PATH": str(workdir / "mf_logs"),
            "TF_CPP_MIN_LOG_LEVEL": "3",
        }
        self.csv_count = 0

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(MF), *args], cwd=REPO_ROOT, env=self.env, capture_output=True, text=True, check=False, timeout=timeout
        )

    def query(self, metrics: str, group_by: str | None = None, *more: str) -> pd.DataFrame:
        self.csv_count += 1
        csv = self.workdir / f"mf_query_{self.csv_count}.csv"
        grouping = ("--group-by", group_by) if group_by else ()
        result = self.run("query", "--metrics", metrics, *grouping, "--csv", str(csv), *more)
        assert result.returncode == 0 and csv.exists(), (
            f"mf query failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
        return pd.read_csv(csv)


@pytest.fixture(scope="session")
def cc_general_csv() -> Path:
    if not CC_GENERAL_CSV.exists():
        pytest.skip(f"public data set not found at {CC_GENERAL_CSV} (it lives in ../shared/data beside the repo)")
    return CC_GENERAL_CSV


def blob_features(n_rows: int = 1_200, sizes=(0.5, 0.3, 0.2), seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers in three well separated groups of the given shares; every 5th is 'test'."""
    counts = [int(share * n_rows) for share in sizes]
    matrix, truth = make_blobs(
        n_samples=counts, n_features=len(CLUSTERING_FEATURES), cluster_std=1.0, center_box=(-8, 8), random_state=seed
    )
    frame = pd.DataFrame(matrix, columns=list(CLUSTERING_FEATURES))
    frame.insert(0, "customer_id", [f"C{i}" for i in range(len(frame))])
    frame.insert(1, "split", np.where(np.arange(len(frame)) % 5 == 0, "test", "train"))
    return frame, truth


def naming_rules() -> pd.DataFrame:
    """The seed segment_naming_rules, typed as dbt loads it."""
    return pd.read_csv(NAMING_RULES_CSV, dtype={"feature": object, "direction": object})


def fit_and_score(features: pd.DataFrame, params, registry: pd.DataFrame | None = None):
    """The dbt chain in-process: segmentation_models (fit a version and append it to
    ``registry``), customer_features_reduced, customer_segments. Returns the segment
    table (pandas), the reduced coordinates, the model in use and the new registry."""
    from segmentation.engines import engine_for
    from segmentation.fit.procedure import update_registry
    from segmentation.scoring.registry import REGISTRY_SCHEMA, model_in_use, read_registry, segment_names
    from tests.oracles import reduce_customers, segment_customers

    registry = read_registry(REGISTRY_SCHEMA.empty_table()) if registry is None else registry
    appended = read_registry(
        update_registry(engine_for(features), params, registry, naming_rules(), CLUSTERING_FEATURES)
    )
    registry = pd.concat([registry, appended], ignore_index=True) if not appended.empty else registry
    version, model = model_in_use(registry, params)
    reduced = reduce_customers(features, model).to_pandas()
    segments = segment_customers(reduced, model, version, segment_names(registry, version)).to_pandas()
    return segments, reduced, model, registry


#: The longest test files, started first, longest first: `make test` runs two files at a time
#: (pytest -n 2 --dist loadfile, one per core), and a long file started last would leave one
#: core idle at the end. Seconds per file, measured with --junitxml on 2026-12-02: 353, 273,
#: 235, 209, 167, 140, 139, 100, 63, 50, 41, 37, 32; the rest take under 25 s each.
LONGEST_FIRST = tuple(
    f"tests/integration/{name}.py"
    for name in (
        "test_bad_inputs",
        "test_dbt_build",
        "test_spark",
        "test_publish_builds",
        "test_registry_build",
        "test_operations",
        "test_var_injection",
        "test_report",
        "test_docs_and_marts",
        "test_semantic_layer",
        "test_bad_rows_property",
        "test_constraints",
        "test_bench_end_to_end",
    )
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        path = Path(str(item.fspath)).resolve().relative_to(REPO_ROOT).as_posix()
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within each file stays
