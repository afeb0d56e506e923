"""``make bench``: the real ``dbt build`` on N customers, timed, beside the notebook.

For each size N the benchmark writes a Parquet file of N customers: the public data set
``../shared/data/cc_general.csv`` (beside the repository) resampled with replacement to N
rows with a fixed seed, each CUST_ID suffixed with its row number so it stays unique
(:func:`resample_customers`); where that file is missing, N customers from the project's
generator (:mod:`segmentation.generator`). The file is cached in the workdir by size,
source and seed. Then for each reducer it runs

1. ``dbt parse`` with the build's vars (not timed: it leaves dbt's partial-parse cache, as
   any earlier build would on an analyst's machine), then
2. ``dbt build`` into a fresh DuckDB file, with ``customers_path`` set to the file and the
   reducer comparison off (its own var), timed: wall time and the peak resident memory
   of the process (``wait4``'s ``ru_maxrss``, what ``/usr/bin/time -v`` reports);
   the time of every model comes from dbt's ``run_results.json``;

and runs the plain pandas + scikit-learn notebook pipeline (``benchmarks/notebook_pipeline.py``)
on the same file, measured the same way. Before the sizes, one pca build on the embedded
9,000-customer demo seed (no ``customers_path``) measures the build's fixed cost. On
1,000,000 customers it also measures how much the k-means sample (var
``kmeans_sample_size``) changes the segments: the adjusted Rand index between the build's
segments and those of k-means fitted on the whole train split. The results, checked
against :data:`TARGETS`, go to ``docs/benchmarks.md`` with the machine's cores and memory.

    python -m segmentation.benchmark [--sizes 1000000] [--reducers pca autoencoder] [--ten-million]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from segmentation.serving.publish import BuildArea

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_SCRIPT = PROJECT_ROOT / "benchmarks" / "notebook_pipeline.py"
#: The public data set the customers are resampled from, when it exists.
CC_GENERAL_CSV = PROJECT_ROOT.parent / "shared" / "data" / "cc_general.csv"
#: Seed of the resampling (which source row each customer copies).
RESAMPLE_SEED = 42
#: Customers in the embedded demo seed (seeds/demo_customers.csv), built without customers_path.
DEMO_CUSTOMERS = 9_000
DEMO_WORKLOAD = f"demo data ({DEMO_CUSTOMERS:,} customers)"
DEFAULT_SIZES = (1_000_000,)
TEN_MILLION = 10_000_000
DEFAULT_REDUCERS = ("pca", "autoencoder")
#: The size the quality-at-scale check (sample-fitted vs full-train k-means) runs at.
AGREEMENT_SIZE = 1_000_000
MIB = 1024 * 1024
GIB = 1024 * MIB
NOTEBOOK = "notebook (pandas + scikit-learn)"


class BenchmarkError(RuntimeError):
    """A benchmarked command failed; the message names its log file."""


@dataclass(frozen=True)
class Measurement:
    """One timed process: wall seconds and peak resident memory in bytes."""

    seconds: float
    peak_bytes: int


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

    @property
    def workload(self) -> str:
        return DEMO_WORKLOAD if self.demo else f"{self.customers:,}"


#: Runs a command and writes its wall seconds and peak resident KiB to the file argv[1].
#: A small interpreter of its own, importing nothing big: a child's ru_maxrss also counts
#: the memory of the process it was forked from, so the benchmark's own (scikit-learn
#: loaded) must not be that parent.
_MEASURING_WRAPPER = """
import os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
with open(sys.argv[1], "w") as result:
    result.write(f"{time.perf_counter() - started} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measure(command: Sequence[str], log_path: Path, env: dict[str, str] | None = None) -> Measurement:
    """Run ``command`` (output to ``log_path``), returning its wall time and peak memory
    (``ru_maxrss``, as ``/usr/bin/time -v`` reports it)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result_path = log_path.with_suffix(".measure")
    with log_path.open("w") as log:
        completed = subprocess.run(
            [sys.executable, "-c", _MEASURING_WRAPPER, str(result_path), *command],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=PROJECT_ROOT,
            check=False,
        )
    if completed.returncode != 0:
        raise BenchmarkError(f"{' '.join(command[:3])} ... failed (exit code {completed.returncode}); see {log_path}")
    seconds, peak = result_path.read_text().split()
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    return Measurement(seconds=float(seconds), peak_bytes=int(peak) * (1 if sys.platform == "darwin" else 1024))


def run_results_summary(path: Path) -> tuple[list[tuple[str, float]], dict[str, tuple[int, float]]]:
    """From dbt's ``run_results.json``: each model's seconds (slowest first), and the
    count and summed seconds of each kind of node."""
    results = json.loads(path.read_text())["results"]
    models = sorted(
        ((result["unique_id"].split(".")[-1], float(result["execution_time"])) for result in results
         if result["unique_id"].startswith("model.")),
        key=lambda item: -item[1],
    )  # fmt: skip
    totals: dict[str, tuple[int, float]] = {}
    for result in results:
        kind = result["unique_id"].split(".")[0]
        count, seconds = totals.get(kind, (0, 0.0))
        totals[kind] = (count + 1, seconds + float(result["execution_time"]))
    return models, totals


def resample_customers(source: Path, n_customers: int, path: Path, seed: int = RESAMPLE_SEED) -> None:
    """Write ``n_customers`` rows drawn with replacement from the CSV ``source`` to the
    Parquet file ``path``, in DuckDB (bounded memory: it spills to disk beside ``path``).

    Row ``i`` (1-based) copies the source row ``hash(i - 1, seed) mod m`` of the ``m`` source
    rows ordered by CUST_ID, and its CUST_ID becomes ``<CUST_ID>_<i>``, zero-padded to at
    least six digits (``C10001_000123``), so every id is unique. The columns and their
    types are those DuckDB reads from the CSV, in its order; the rows are written in the
    order of ``i``. The same source, size and seed give the same file (with the same DuckDB
    version: the row choice is DuckDB's ``hash``)."""
    import duckdb

    spill = path.with_name(path.name + ".spill")
    shutil.rmtree(spill, ignore_errors=True)
    try:
        with duckdb.connect() as connection:
            connection.execute("set memory_limit = '512MB'")
            connection.execute("set enable_progress_bar = false")
            connection.execute("set temp_directory = ?", [str(spill)])
            connection.execute("set preserve_insertion_order = true")
            connection.execute(
                "create temp table source_rows as "
                "select row_number() over (order by CUST_ID) - 1 as source_row, * "
                "from read_csv(?, header = true)",
                [str(source)],
            )
            columns = [column for column in connection.table("source_rows").columns if column != "source_row"]
            if "CUST_ID" not in columns:
                raise BenchmarkError(f"{source} has no CUST_ID column")
            (n_source,) = connection.execute("select count(*) from source_rows").fetchone()
            if n_source == 0:
                raise BenchmarkError(f"{source} has no rows to resample")
            width = max(6, len(str(n_customers)))
            selected = ", ".join(
                f"s.CUST_ID || '_' || lpad(cast(r.range + 1 as varchar), {width}, '0') as CUST_ID"
                if column == "CUST_ID"
                else f's."{column}"'
                for column in columns
            )
            query = (
                f"select {selected} from range({int(n_customers)}) r "
                f"join source_rows s on s.source_row = hash(r.range, {int(seed)}) % {int(n_source)} "
                "order by r.range"
            )
            connection.execute(f"copy ({query}) to '{_sql_text(path)}' (format parquet)")
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")


def data_source(source: Path | None) -> Path | None:
    """``source`` when it is an existing file, else None (the generator)."""
    return source if source is not None and source.is_file() else None


def describe_data(source: Path | None, seed: int = RESAMPLE_SEED) -> str:
    """The markdown bullet saying which customers the sized builds and the notebook read."""
    if source is None:
        return (
            "- Data: customers from the project's generator (`python -m segmentation.generator`; "
            "`../shared/data/cc_general.csv` was not found), as Parquet, read by the build through var "
            "`customers_path`."
        )
    shown = os.path.relpath(source, PROJECT_ROOT) if source.is_absolute() else str(source)
    return (
        f"- Data: the public `{shown}` resampled with replacement to N rows (seed {seed}: row i, from 0, "
        "copies source row DuckDB `hash(i, seed) mod m` of the m rows ordered by CUST_ID), CUST_ID suffixed "
        "with the row number (`C10001_000123`) so it stays unique; as Parquet, read by the build through var "
        "`customers_path`."
    )


def customers_file(n_customers: int, workdir: Path, source: Path | None, seed: int = RESAMPLE_SEED) -> Path:
    """The Parquet file of ``n_customers`` customers, made once and then reused: ``source``
    resampled (:func:`resample_customers`), or the generator's customers when ``source``
    is None. The file name holds the size, the source and the seed."""
    name = f"customers_{n_customers}_{source.stem}_seed{seed}" if source else f"customers_{n_customers}_generator"
    path = workdir / f"{name}.parquet"
    if path.exists():
        return path
    started = time.perf_counter()
    partial = path.with_name(path.stem + ".partial.parquet")
    partial.unlink(missing_ok=True)
    if source is not None:
        resample_customers(source, n_customers, partial, seed)
        made = f"resampled {source.name} to {n_customers:,} customers"
    else:
        from segmentation.generator import generate_customers, write_table

        customers, _ = generate_customers(n_customers)
        write_table(customers, partial)
        made = f"generated {n_customers:,} customers"
    partial.replace(path)  # only a complete file is ever reused
    print(f"{made} in {time.perf_counter() - started:.1f} s: {path}", flush=True)
    return path


def _dbt_executable() -> str:
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


def dbt_build(customers: Path | None, n_customers: int, reducer: str, workdir: Path) -> Run:
    """Time ``dbt build`` of the whole project on ``customers`` (None: the demo seed of
    ``n_customers``) into a fresh warehouse."""
    demo = customers is None
    name = _build_name(n_customers, reducer, demo)
    database = warehouse_path(workdir, n_customers, reducer, demo)
    for stale in (database, database.with_name(database.name + ".wal")):
        stale.unlink(missing_ok=True)
    # The build workspace (and its model registry) too: every build starts afresh.
    shutil.rmtree(BuildArea.of_published(database).root, ignore_errors=True)
    target = workdir / f"target_{name}"
    (target / "run_results.json").unlink(missing_ok=True)
    dbt_vars = json.dumps(build_vars(customers, reducer, workdir / f"exports_{name}"))
    env = {**os.environ, "DBT_DUCKDB_PATH": str(database), "TF_CPP_MIN_LOG_LEVEL": "3"}
    common = ["--vars", dbt_vars, "--target-path", str(target), "--log-path", str(workdir / f"logs_{name}")]
    dbt = _dbt_executable()
    measure([dbt, "parse", *common], workdir / f"parse_{name}.log", env)
    workload = DEMO_WORKLOAD if demo else f"{n_customers:,} customers"
    print(f"dbt build, {workload}, reducer {reducer} ...", flush=True)
    measurement = measure([dbt, "build", *common], workdir / f"build_{name}.log", env)
    models, totals = run_results_summary(target / "run_results.json")
    print(
        f"  dbt build, {workload}, {reducer}: {measurement.seconds:.1f} s, "
        f"peak memory {measurement.peak_bytes / MIB:,.0f} MiB",
        flush=True,
    )
    return Run(n_customers, f"dbt build, {reducer}", measurement, models, totals, demo=demo)


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


@dataclass(frozen=True)
class Target:
    """A goal of the benchmark: the full ``dbt build`` wall time and its peak memory."""

    customers: int
    pipeline: str
    description: str
    max_seconds: float | None = None
    #: The wall time may be at most this multiple of another pipeline's on the same file
    #: in the same run.
    max_ratio_to: tuple[str, float] | None = None
    max_peak_bytes: int | None = None
    #: The build on the embedded demo seed (its fixed cost), not on a benchmark file.
    demo: bool = False

    @property
    def workload(self) -> str:
        return DEMO_WORKLOAD if self.demo else f"{self.customers:,}"


TARGETS: tuple[Target, ...] = (
    Target(
        DEMO_CUSTOMERS,
        "dbt build, pca",
        "12 s or less, 1 GiB or less",
        max_seconds=12,
        max_peak_bytes=1 * GIB,
        demo=True,
    ),
    Target(
        1_000_000,
        "dbt build, pca",
        "1.5x the notebook or less, 1 GiB or less",
        max_ratio_to=(NOTEBOOK, 1.5),
        max_peak_bytes=1 * GIB,
    ),
    Target(
        1_000_000,
        "dbt build, autoencoder",
        "2x the notebook or less, 1.5 GiB or less",
        max_ratio_to=(NOTEBOOK, 2.0),
        max_peak_bytes=GIB * 3 // 2,
    ),
    Target(
        TEN_MILLION,
        "dbt build, pca",
        "0.5x the notebook or less, 2 GiB or less",
        max_ratio_to=(NOTEBOOK, 0.5),
        max_peak_bytes=2 * GIB,
    ),
)


def _ratio(run: Run, other: Run) -> float:
    return run.measurement.seconds / other.measurement.seconds


def check_target(target: Target, runs: Sequence[Run]) -> str | None:
    """``met`` or ``not met (why)`` for a target, or None when its runs are not in ``runs``."""
    by_key = {(run.customers, run.demo, run.pipeline): run for run in runs}
    run = by_key.get((target.customers, target.demo, target.pipeline))
    if run is None:
        return None
    misses = []
    if target.max_seconds is not None and run.measurement.seconds > target.max_seconds:
        misses.append(f"{run.measurement.seconds:.1f} s > {target.max_seconds:g} s")
    ratio_measured = True
    if target.max_ratio_to is not None:
        other_name, max_ratio = target.max_ratio_to
        other = by_key.get((target.customers, target.demo, other_name))
        ratio_measured = other is not None
        ratio = _ratio(run, other) if other is not None else None
        if ratio is not None and ratio > max_ratio:
            misses.append(f"{ratio:.2f}x {other_name} > {max_ratio:g}x")
    if target.max_peak_bytes is not None and run.measurement.peak_bytes > target.max_peak_bytes:
        misses.append(f"{run.measurement.peak_bytes / GIB:.2f} GiB > {target.max_peak_bytes / GIB:g} GiB")
    if misses:
        return f"not met ({'; '.join(misses)})"
    # Every limit measured held; a ratio whose other run is missing leaves it open.
    return "met" if ratio_measured else None


def machine_description() -> str:
    """CPU model, cores and memory of this machine."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{cpu}, {os.cpu_count()} cores, {memory / GIB:.1f} GiB memory, {platform.system()} {platform.release()}"


def _versions() -> str:
    packages = ("dbt-core", "dbt-duckdb", "duckdb", "pandas", "scikit-learn", "tensorflow-cpu")
    found = []
    for package in packages:
        try:
            found.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return f"Python {platform.python_version()}, " + ", ".join(found)


def render_markdown(
    runs: Sequence[Run], agreement: tuple[float, int, int] | None, written_at: datetime, data: str
) -> str:
    """docs/benchmarks.md: machine, data (``data``, from :func:`describe_data`), summary
    table with ratios to the notebook, targets, quality at scale and where the time and
    memory of each build go."""
    notebook = {run.customers: run for run in runs if run.pipeline == NOTEBOOK and not run.demo}
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {written_at:%Y-%m-%d %H:%M} UTC. Do not edit by hand: rerun it.",
        "",
        f"- Machine: {machine_description()}.",
        f"- Software: {_versions()}.",
        data,
        f"- {DEMO_WORKLOAD}: the build's fixed cost, a pca build on the embedded demo seed",
        "  (`seeds/demo_customers.csv`, no `customers_path`); no notebook run beside it.",
        "- `dbt build`: the whole project (seeds, every model, every data and unit test, the Parquet",
        "  exports) into a fresh DuckDB file, with `compare_reducers: false` and the other vars at their",
        "  defaults; timed after an untimed `dbt parse` with the same vars, so dbt's partial-parse cache",
        "  is warm as on any second build. Wall time is the whole process (dbt's own start-up included).",
        "- Peak memory: the largest resident set of the process (`ru_maxrss`, as `/usr/bin/time -v`).",
        "- Notebook: `benchmarks/notebook_pipeline.py`, plain pandas + scikit-learn on the same file",
        "  (read, impute, scale, PCA, elbow k = 1..10 on the whole train split, k-means, test",
        "  silhouette, segments written to Parquet). Ratio: build wall time / notebook wall time.",
        "",
        "## Results",
        "",
        "| workload | pipeline | wall time (s) | peak memory (MiB) | vs notebook |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    order = sorted(runs, key=lambda run: (not run.demo, run.customers, run.pipeline != NOTEBOOK, run.pipeline))
    for run in order:
        baseline = None if run.demo else notebook.get(run.customers)
        ratio = "" if baseline is None or run is baseline else f"{_ratio(run, baseline):.2f}x"
        lines.append(
            f"| {run.workload} | {run.pipeline} | {run.measurement.seconds:.1f} | "
            f"{run.measurement.peak_bytes / MIB:,.0f} | {ratio} |"
        )
    lines += [
        "",
        "## Targets",
        "",
        "Full `dbt build` wall time and peak memory; a ratio compares with the notebook on the same file in",
        "the same run.",
        "",
        "| workload | pipeline | target | result |",
        "| ---: | --- | --- | --- |",
    ]
    for target in TARGETS:
        verdict = check_target(target, runs)
        result = verdict if verdict is not None else "not measured in this run"
        lines.append(f"| {target.workload} | {target.pipeline} | {target.description} | {result} |")
    lines += ["", "## Quality at scale", ""]
    if agreement is None:
        lines.append(f"Not measured in this run (it runs when {AGREEMENT_SIZE:,} customers are benchmarked with pca).")
    else:
        ari, sample_size, n_train = agreement
        lines.append(
            f"On {AGREEMENT_SIZE:,} customers (pca build): adjusted Rand index between the build's segments "
            f"(k-means fitted on a seeded sample of {sample_size:,} of the {n_train:,} train customers, var "
            f"`kmeans_sample_size`) and k-means fitted on the whole train split, over every customer: "
            f"**{ari:.4f}** (goal: at least 0.98)."
        )
    lines += ["", "## Where the time of each build goes", ""]
    lines.append("Wall time and peak memory of each build, and seconds per node from dbt's `run_results.json`")
    lines.append("(two threads run at once, so the nodes add up to more than the wall time).")
    for run in order:
        if not run.model_seconds:
            continue
        totals = ", ".join(f"{count} {kind}s {seconds:.1f} s" for kind, (count, seconds) in run.node_totals.items())
        slowest = ", ".join(f"{name} {seconds:.1f}" for name, seconds in run.model_seconds[:10])
        lines += [
            "",
            f"- **{run.workload}, {run.pipeline}**: {run.measurement.seconds:.1f} s wall, peak memory "
            f"{run.measurement.peak_bytes / MIB:,.0f} MiB; {totals}.",
            f"  Slowest models (s): {slowest}.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(DEFAULT_SIZES), help="numbers of customers")
    parser.add_argument("--ten-million", action="store_true", help=f"also benchmark {TEN_MILLION:,} customers (pca)")
    parser.add_argument("--reducers", nargs="+", default=list(DEFAULT_REDUCERS), choices=DEFAULT_REDUCERS)
    parser.add_argument("--no-demo", action="store_true", help=f"skip the pca build on the {DEMO_WORKLOAD}")
    parser.add_argument(
        "--source",
        type=Path,
        default=CC_GENERAL_CSV,
        help="CSV to resample the customers from (default ../shared/data/cc_general.csv); "
        "when it does not exist, the project's generator makes them",
    )
    parser.add_argument("--seed", type=int, default=RESAMPLE_SEED, help="seed of the resampling")
    parser.add_argument("--workdir", type=Path, default=PROJECT_ROOT / "build" / "bench")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    source = data_source(args.source.resolve())
    if source is None:
        print(f"{args.source} not found: the customers come from the project's generator", flush=True)

    plan = {size: list(args.reducers) for size in sorted(set(args.sizes))}
    if args.ten_million:
        plan.setdefault(TEN_MILLION, [])
        if "pca" not in plan[TEN_MILLION]:
            plan[TEN_MILLION].append("pca")
    runs: list[Run] = []
    if not args.no_demo:
        runs.append(dbt_build(None, DEMO_CUSTOMERS, "pca", args.workdir))
    agreement = None
    for size, reducers in plan.items():
        customers = customers_file(size, args.workdir, source, args.seed)
        runs.append(notebook_run(customers, size, args.workdir))
        for reducer in reducers:
            runs.append(dbt_build(customers, size, reducer, args.workdir))
        if size == AGREEMENT_SIZE and "pca" in reducers:
            agreement = sample_fit_agreement(warehouse_path(args.workdir, size, "pca"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_markdown(runs, agreement, datetime.now(UTC), describe_data(source, args.seed)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
