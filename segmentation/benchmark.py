"""``make bench``: the real ``dbt build`` on N synthetic customers, timed, beside the notebook.

For each size N the benchmark writes N customers with the project's generator
(:mod:`segmentation.generator`) to a Parquet file, then for each reducer runs

1. ``dbt parse`` with the build's vars (not timed: it leaves dbt's partial-parse cache, as
   any earlier build would on an analyst's machine), then
2. ``dbt build`` into a fresh DuckDB file, with ``customers_path`` set to the file and the
   reducer comparison off (its own var), timed: wall time and the peak resident memory
   of the process (``wait4``'s ``ru_maxrss``, what ``/usr/bin/time -v`` reports);
   the time of every model comes from dbt's ``run_results.json``;

and runs the plain pandas + scikit-learn notebook pipeline (``benchmarks/notebook_pipeline.py``)
on the same file, measured the same way. On 1,000,000 customers it also measures how
much the k-means sample (var ``kmeans_sample_size``) changes the segments: the adjusted
Rand index between the build's segments and those of k-means fitted on the whole train
split. The results go to ``docs/benchmarks.md`` with the machine's cores and memory.

    python -m segmentation.benchmark --sizes 100000 1000000 [--ten-million]
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

from segmentation.publish import BuildArea

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_SCRIPT = PROJECT_ROOT / "benchmarks" / "notebook_pipeline.py"
DEFAULT_SIZES = (100_000, 1_000_000)
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
    """One row of the results: a pipeline on N customers."""

    customers: int
    pipeline: str
    measurement: Measurement
    #: (model, seconds) of every model, slowest first (dbt builds only).
    model_seconds: list[tuple[str, float]] = field(default_factory=list)
    #: seconds summed over the nodes of each kind (model, test, seed, ...) and their counts.
    node_totals: dict[str, tuple[int, float]] = field(default_factory=dict)


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


def customers_file(n_customers: int, workdir: Path) -> Path:
    """The Parquet file of ``n_customers`` generated customers (made once, then reused)."""
    from segmentation.generator import generate_customers, write_table

    path = workdir / f"customers_{n_customers}.parquet"
    if not path.exists():
        started = time.perf_counter()
        customers, _ = generate_customers(n_customers)
        write_table(customers, path)
        print(f"generated {n_customers:,} customers in {time.perf_counter() - started:.1f} s: {path}", flush=True)
    return path


def _dbt_executable() -> str:
    beside_python = Path(sys.executable).with_name("dbt")
    found = str(beside_python) if beside_python.exists() else shutil.which("dbt")
    if not found:
        raise BenchmarkError("dbt is not installed in this environment: run make setup first")
    return found


def dbt_build(customers: Path, n_customers: int, reducer: str, workdir: Path) -> Run:
    """Time ``dbt build`` of the whole project on ``customers`` into a fresh warehouse."""
    name = f"{n_customers}_{reducer}"
    database = warehouse_path(workdir, n_customers, reducer)
    for stale in (database, database.with_name(database.name + ".wal")):
        stale.unlink(missing_ok=True)
    # The build workspace (and its model registry) too: every build starts afresh.
    shutil.rmtree(BuildArea.of_published(database).root, ignore_errors=True)
    target = workdir / f"target_{name}"
    build_vars = json.dumps(
        {
            "customers_path": str(customers),
            "reducer": reducer,
            "compare_reducers": False,
            "export_path": str(workdir / f"exports_{name}"),
        }
    )
    env = {**os.environ, "DBT_DUCKDB_PATH": str(database), "TF_CPP_MIN_LOG_LEVEL": "3"}
    common = ["--vars", build_vars, "--target-path", str(target), "--log-path", str(workdir / f"logs_{name}")]
    dbt = _dbt_executable()
    measure([dbt, "parse", *common], workdir / f"parse_{name}.log", env)
    print(f"dbt build, {n_customers:,} customers, reducer {reducer} ...", flush=True)
    measurement = measure([dbt, "build", *common], workdir / f"build_{name}.log", env)
    models, totals = run_results_summary(target / "run_results.json")
    return Run(n_customers, f"dbt build, {reducer}", measurement, models, totals)


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
    return Run(n_customers, NOTEBOOK, measure(command, workdir / f"notebook_{n_customers}.log"))


def warehouse_path(workdir: Path, n_customers: int, reducer: str) -> Path:
    return workdir / f"warehouse_{n_customers}_{reducer}.duckdb"


def sample_fit_agreement(database: Path) -> tuple[float, int, int]:
    """Adjusted Rand index between the segments of the warehouse's model version (its
    k-means fitted on a sample of the train split) and those of k-means fitted on the
    whole train split with the same scaler, reducer, k, restarts and seed; with the
    sample size and the train size."""
    import duckdb
    from sklearn.metrics import adjusted_rand_score

    from segmentation.metrics import kmeans_sample
    from segmentation.pipeline import N_INIT, feature_matrix, train_mask
    from segmentation.registry import load_model, read_registry, version_in_use, version_row
    from segmentation.relations import read_clustering_features, relation_to_arrow
    from segmentation.segment_model import fit_kmeans

    with duckdb.connect(str(database), read_only=True) as connection:
        features = read_clustering_features(connection.table("int_customer_features_engineered"))
        registry = read_registry(relation_to_arrow(connection.table("segmentation_models")))
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
    """A goal of the benchmark (issue "Ten million customers on one laptop-sized machine")."""

    customers: int
    pipeline: str
    description: str
    max_seconds: float | None = None
    #: The wall time may be at most this multiple of another pipeline's on the same file.
    max_ratio_to: tuple[str, float] | None = None
    max_peak_bytes: int | None = None


TARGETS: tuple[Target, ...] = (
    Target(1_000_000, "dbt build, pca", "20 s or less, 2 GiB or less", max_seconds=20, max_peak_bytes=2 * GIB),
    Target(
        1_000_000,
        "dbt build, autoencoder",
        "1.5x the pca build or less, 2 GiB or less",
        max_ratio_to=("dbt build, pca", 1.5),
        max_peak_bytes=2 * GIB,
    ),
    Target(
        TEN_MILLION,
        "dbt build, pca",
        "90 s or less and half the notebook or less, 4 GiB or less",
        max_seconds=90,
        max_ratio_to=(NOTEBOOK, 0.5),
        max_peak_bytes=4 * GIB,
    ),
)


def _ratio(run: Run, other: Run) -> float:
    return run.measurement.seconds / other.measurement.seconds


def check_target(target: Target, runs: Sequence[Run]) -> str | None:
    """``met`` or ``not met (why)`` for a target, or None when its runs are not in ``runs``."""
    by_key = {(run.customers, run.pipeline): run for run in runs}
    run = by_key.get((target.customers, target.pipeline))
    if run is None:
        return None
    misses = []
    if target.max_seconds is not None and run.measurement.seconds > target.max_seconds:
        misses.append(f"{run.measurement.seconds:.1f} s > {target.max_seconds:g} s")
    ratio_measured = True
    if target.max_ratio_to is not None:
        other_name, max_ratio = target.max_ratio_to
        other = by_key.get((target.customers, other_name))
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


def render_markdown(runs: Sequence[Run], agreement: tuple[float, int, int] | None, written_at: datetime) -> str:
    """docs/benchmarks.md: machine, summary table with ratios to the notebook, targets,
    quality at scale and where the time of each build goes."""
    notebook = {run.customers: run for run in runs if run.pipeline == NOTEBOOK}
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {written_at:%Y-%m-%d %H:%M} UTC. Do not edit by hand: rerun it.",
        "",
        f"- Machine: {machine_description()}.",
        f"- Software: {_versions()}.",
        "- Data: customers from the project's generator (`python -m segmentation.generator`), as Parquet,",
        "  read by the build through var `customers_path`.",
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
        "| customers | pipeline | wall time (s) | peak memory (MiB) | vs notebook |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    for run in sorted(runs, key=lambda run: (run.customers, run.pipeline != NOTEBOOK, run.pipeline)):
        baseline = notebook.get(run.customers)
        ratio = "" if baseline is None or run is baseline else f"{_ratio(run, baseline):.2f}x"
        lines.append(
            f"| {run.customers:,} | {run.pipeline} | {run.measurement.seconds:.1f} | "
            f"{run.measurement.peak_bytes / MIB:,.0f} | {ratio} |"
        )
    lines += ["", "## Targets", "", "| customers | pipeline | target | result |", "| ---: | --- | --- | --- |"]
    for target in TARGETS:
        verdict = check_target(target, runs)
        result = verdict if verdict is not None else "not measured in this run"
        lines.append(f"| {target.customers:,} | {target.pipeline} | {target.description} | {result} |")
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
    lines.append("Seconds per node from dbt's `run_results.json` (two threads run at once, so they add up to more")
    lines.append("than the wall time).")
    for run in runs:
        if not run.model_seconds:
            continue
        totals = ", ".join(f"{count} {kind}s {seconds:.1f} s" for kind, (count, seconds) in run.node_totals.items())
        slowest = ", ".join(f"{name} {seconds:.1f}" for name, seconds in run.model_seconds[:10])
        lines += ["", f"- **{run.customers:,}, {run.pipeline}**: {totals}.", f"  Slowest models (s): {slowest}."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="numbers of customers")
    parser.add_argument("--ten-million", action="store_true", help=f"also benchmark {TEN_MILLION:,} customers (pca)")
    parser.add_argument("--reducers", nargs="+", default=list(DEFAULT_REDUCERS), choices=DEFAULT_REDUCERS)
    parser.add_argument("--workdir", type=Path, default=PROJECT_ROOT / "build" / "bench")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)

    plan = [(size, list(args.reducers)) for size in sorted(set(args.sizes))]
    if args.ten_million:
        plan.append((TEN_MILLION, ["pca"]))
    runs: list[Run] = []
    agreement = None
    for size, reducers in plan:
        customers = customers_file(size, args.workdir)
        runs.append(notebook_run(customers, size, args.workdir))
        for reducer in reducers:
            runs.append(dbt_build(customers, size, reducer, args.workdir))
        if size == AGREEMENT_SIZE and "pca" in reducers:
            agreement = sample_fit_agreement(warehouse_path(args.workdir, size, "pca"))
        for run in runs[-1 - len(reducers) :]:
            print(
                f"  {run.customers:,} {run.pipeline}: {run.measurement.seconds:.1f} s, "
                f"{run.measurement.peak_bytes / MIB:,.0f} MiB",
                flush=True,
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_markdown(runs, agreement, datetime.now(UTC)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
