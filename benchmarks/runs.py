"""The benchmarked runs: a timed ``dbt build`` of the whole project (on a customers file or
on the embedded demo seed) and a timed run of the notebook pipeline on the same file; and
the quality check at scale (k-means on a sample against k-means on the whole train split)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import PROJECT_ROOT
from benchmarks.measuring import MIB, BenchmarkError, Measurement, measure, run_results_summary
from segmentation.serving.publish import BuildArea

NOTEBOOK_SCRIPT = PROJECT_ROOT / "benchmarks" / "notebook_pipeline.py"
#: Customers in the embedded demo seed (seeds/demo_customers.csv), built without customers_path.
DEMO_CUSTOMERS = 9_000
DEMO_WORKLOAD = f"demo data ({DEMO_CUSTOMERS:,} customers)"
#: The size the quality-at-scale check (sample-fitted vs full-train k-means) runs at.
AGREEMENT_SIZE = 1_000_000
NOTEBOOK = "notebook (pandas + scikit-learn)"


@dataclass
class Run:
    """One row of the results: a pipeline on N customers (or on the embedded demo data)."""

    customers: int
    pipeline: str
    measurement: Measurement
    #: (model, seconds) of every model, slowest first (dbt builds only).
    model_seconds: list[tuple[str, float]] = field(default_factory=list)
    #: seconds summed over the nodes of each kind (model, test, seed, ...) and their counts.
    node_totals: dict[str, tuple[int, float]] = field(default_factory=dict)
    #: Built on the embedded demo seed (no customers_path), not on a benchmark file.
    demo: bool = False
    #: Bytes on disk of the warehouse's build folder after the build (dbt builds only):
    #: the workspace, the published builds and their exports.
    disk_bytes: int | None = None

    @property
    def workload(self) -> str:
        return DEMO_WORKLOAD if self.demo else f"{self.customers:,}"

    def time_ratio(self, other: Run) -> float:
        """This run's wall time over ``other``'s."""
        return self.measurement.seconds / other.measurement.seconds


def dbt_executable() -> str:
    """The dbt of this environment (beside its Python), else the one on PATH."""
    beside_python = Path(sys.executable).with_name("dbt")
    found = str(beside_python) if beside_python.exists() else shutil.which("dbt")
    if not found:
        raise BenchmarkError("dbt is not installed in this environment: run make setup first")
    return found


def build_vars(customers: Path | None, reducer: str, export_path: Path) -> dict[str, object]:
    """The dbt vars of a benchmarked build: the reducer comparison off, ``customers_path``
    only for a file (None: the embedded demo seed)."""
    found: dict[str, object] = {} if customers is None else {"customers_path": str(customers)}
    return {**found, "reducer": reducer, "compare_reducers": False, "export_path": str(export_path)}


#: The demo builds: the first after a var changed (dbt parses the whole project again),
#: the second with the same vars (dbt's partial-parse cache is warm).
FULL_PARSE = "full parse"
SAME_VARS = "same vars"


def dbt_build(customers: Path | None, n_customers: int, reducer: str, workdir: Path, parse: str | None = None) -> Run:
    """Time ``dbt build`` of the whole project on ``customers`` (None: the demo seed of
    ``n_customers``) into a fresh warehouse, after an untimed ``dbt parse`` with the same
    vars. ``parse`` :data:`FULL_PARSE`: no parse before, and dbt's partial-parse cache
    removed (as after a var changed); :data:`SAME_VARS`: onto the warehouse the
    :data:`FULL_PARSE` build left, its cache warm (as any second build)."""
    demo = customers is None
    name = _build_name(n_customers, reducer, demo)
    database = warehouse_path(workdir, n_customers, reducer, demo)
    target = workdir / f"target_{name}"
    if parse != SAME_VARS:
        for stale in (database, database.with_name(database.name + ".wal")):
            stale.unlink(missing_ok=True)
        # The build workspace (and its model registry) too: every build starts afresh.
        shutil.rmtree(BuildArea.of_published(database).root, ignore_errors=True)
    (target / "run_results.json").unlink(missing_ok=True)
    dbt_vars = json.dumps(build_vars(customers, reducer, workdir / f"exports_{name}"))
    env = {**os.environ, "DBT_DUCKDB_PATH": str(database), "TF_CPP_MIN_LOG_LEVEL": "3"}
    common = ["--vars", dbt_vars, "--target-path", str(target), "--log-path", str(workdir / f"logs_{name}")]
    dbt = dbt_executable()
    if parse == FULL_PARSE:
        (target / "partial_parse.msgpack").unlink(missing_ok=True)
    elif parse is None:
        measure([dbt, "parse", *common], workdir / f"parse_{name}.log", env)
    workload = DEMO_WORKLOAD if demo else f"{n_customers:,} customers"
    pipeline = f"dbt build, {reducer}" + (f", {parse}" if parse else "")
    print(f"{pipeline}, {workload} ...", flush=True)
    measurement = measure([dbt, "build", *common], workdir / f"build_{name}_{parse or 'parsed'}.log", env)
    models, totals = run_results_summary(target / "run_results.json")
    print(
        f"  {pipeline}, {workload}: {measurement.seconds:.1f} s, peak memory {measurement.peak_bytes / MIB:,.0f} MiB",
        flush=True,
    )
    disk = sum(path.stat().st_size for path in BuildArea.of_published(database).root.rglob("*") if path.is_file())
    return Run(n_customers, pipeline, measurement, models, totals, demo=demo, disk_bytes=disk)


def notebook_run(customers: Path, n_customers: int, workdir: Path) -> Run:
    """Time the plain pandas + scikit-learn pipeline on the same file."""
    print(f"notebook pipeline, {n_customers:,} customers ...", flush=True)
    command = [
        sys.executable,
        str(NOTEBOOK_SCRIPT),
        "--customers",
        str(customers),
        "--out",
        str(workdir / f"notebook_segments_{n_customers}.parquet"),
    ]
    measurement = measure(command, workdir / f"notebook_{n_customers}.log")
    print(
        f"  notebook, {n_customers:,} customers: {measurement.seconds:.1f} s, "
        f"peak memory {measurement.peak_bytes / MIB:,.0f} MiB",
        flush=True,
    )
    return Run(n_customers, NOTEBOOK, measurement)


def _build_name(n_customers: int, reducer: str, demo: bool = False) -> str:
    return f"demo_{reducer}" if demo else f"{n_customers}_{reducer}"


def warehouse_path(workdir: Path, n_customers: int, reducer: str, demo: bool = False) -> Path:
    return workdir / f"warehouse_{_build_name(n_customers, reducer, demo)}.duckdb"


def sample_fit_agreement(database: Path) -> tuple[float, int, int]:
    """Adjusted Rand index between the segments of the warehouse's model version (its
    k-means fitted on a sample of the train split) and those of k-means fitted on the
    whole train split with the same scaler, reducer, k, restarts and seed; with the
    sample size and the train size."""
    import duckdb
    from sklearn.metrics import adjusted_rand_score

    from segmentation.engines import engine_for
    from segmentation.fit.scores import kmeans_sample
    from segmentation.fit.steps import N_INIT, fit_kmeans, train_mask
    from segmentation.scoring.model import feature_matrix
    from segmentation.scoring.registry import load_model, read_registry, version_in_use, version_row

    with duckdb.connect(str(database), read_only=True) as connection:
        features = connection.sql("select * from int_customer_features_engineered order by customer_id").df()
        registry = read_registry(engine_for(connection.table("segmentation_models"), connection).arrow())
    version = version_in_use(registry, None)
    parameters = json.loads(version_row(registry, version)["parameters"])
    seed = parameters["random_seed"]
    model = load_model(registry, version)
    reduced = model.reduce(feature_matrix(features, model.features))
    is_train = train_mask(features)
    sample_fitted = model.assign(reduced)[0]
    full_centroids = fit_kmeans(reduced[is_train], model.n_segments, N_INIT, seed)
    full_fitted = model.with_centroids(full_centroids).assign(reduced)[0]
    n_train = int(is_train.sum())
    sample_size = len(kmeans_sample(n_train, model.n_segments, parameters["kmeans_sample_size"], seed))
    return float(adjusted_rand_score(full_fitted, sample_fitted)), sample_size, n_train
