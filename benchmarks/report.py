"""``docs/benchmarks.md``: the machine, the data, the results with their ratios to the
notebook, the targets, the quality at scale and where the time of each build goes."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from datetime import datetime
from importlib import metadata
from pathlib import Path

from benchmarks.measuring import GIB, MIB
from benchmarks.runs import AGREEMENT_SIZE, DEMO_WORKLOAD, NOTEBOOK, Run
from benchmarks.targets import TARGETS, check_target


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


#: The models of docs/explanations.md, whose cost each build's profile shows.
MONITORING_MODELS = (
    "customer_segment_reasons",
    "feature_drift",
    "segment_drift",
    "customer_segment_history",
    "customer_segment_moves",
    "sem_segment_moves",
)


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
        f"- {DEMO_WORKLOAD}: the build's fixed cost, two pca builds on the embedded demo seed",
        "  (`seeds/demo_customers.csv`, no `customers_path`), no notebook beside them: `full parse`, into",
        "  a fresh DuckDB file with dbt's partial-parse cache removed (as after a var changed), then",
        "  `same vars`, again on that warehouse with the cache warm (a second refitting build).",
        "- `dbt build`: the whole project (seeds, every model and data test, the Parquet",
        "  exports) with `compare_reducers: false` and the other vars at their defaults (DuckDB's",
        "  memory limit too: 1 GB); on a benchmark file into a fresh DuckDB file, timed after an",
        "  untimed `dbt parse` with the same vars. Wall time is the whole process (dbt's own start-up",
        "  included). Disk: the warehouse's build folder afterwards (workspace, published builds, exports).",
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
        ratio = "" if baseline is None or run is baseline else f"{run.time_ratio(baseline):.2f}x"
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
        monitoring = sum(seconds for name, seconds in run.model_seconds if name in MONITORING_MODELS)
        all_models = sum(seconds for _, seconds in run.model_seconds)
        disk = f", disk {run.disk_bytes / GIB:.2f} GiB" if run.disk_bytes is not None else ""
        lines += [
            "",
            f"- **{run.workload}, {run.pipeline}**: {run.measurement.seconds:.1f} s wall, peak memory "
            f"{run.measurement.peak_bytes / MIB:,.0f} MiB{disk}; {totals}.",
            f"  Slowest models (s): {slowest}.",
            f"  Explanations, drift and history ({', '.join(MONITORING_MODELS)}): {monitoring:.1f} s, "
            f"{monitoring / all_models:.1%} of the models' seconds.",
        ]
    return "\n".join(lines) + "\n"
