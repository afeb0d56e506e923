"""``make bench``: the real ``dbt build`` on N customers, timed, beside the notebook.

For each size N the benchmark writes a Parquet file of N customers: the public data set
``../shared/data/cc_general.csv`` (beside the repository) resampled with replacement to N
rows with a fixed seed, each CUST_ID suffixed with its row number so it stays unique
(:func:`benchmarks.customers.resample_customers`); where that file is missing, N customers from the project's
generator (:mod:`segmentation.generator`). The file is cached in the workdir by size,
source and seed. Then for each reducer it runs

1. ``dbt parse`` with the build's vars (not timed: it leaves dbt's partial-parse cache, as
   any earlier build would on an analyst's machine), then
2. ``dbt build`` into a fresh DuckDB file, with ``customers_path`` set to the file and the
   reducer comparison off (its own var), timed: wall time and the peak resident memory
   of the process (``wait4``'s ``ru_maxrss``, what ``/usr/bin/time -v`` reports);
   the time of every model comes from dbt's ``run_results.json``;

and runs the plain pandas + scikit-learn notebook pipeline (``benchmarks/notebook_pipeline.py``)
on the same file, measured the same way. Before the sizes, two pca builds on the embedded
9,000-customer demo seed (no ``customers_path``) measure the build's fixed cost: one after
a var changed (dbt parses the whole project again), one with the same vars. The
100,000,000-customer build (``--hundred-million``) has no notebook beside it (the notebook
cannot hold the data); it reports the disk the warehouse takes. On
1,000,000 customers it also measures how much the k-means sample (var
``kmeans_sample_size``) changes the segments: the adjusted Rand index between the build's
segments and those of k-means fitted on the whole train split. The results, checked
against :data:`benchmarks.targets.TARGETS`, go to ``docs/benchmarks.md`` with the machine's cores and memory.

    python -m benchmarks.bench [--sizes 1000000] [--reducers pca autoencoder] [--ten-million] [--hundred-million]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import PROJECT_ROOT
from benchmarks.customers import CC_GENERAL_CSV, RESAMPLE_SEED, customers_file, data_source, describe_data
from benchmarks.report import render_markdown
from benchmarks.runs import (
    AGREEMENT_SIZE,
    DEMO_CUSTOMERS,
    DEMO_WORKLOAD,
    FULL_PARSE,
    SAME_VARS,
    Run,
    dbt_build,
    notebook_run,
    sample_fit_agreement,
    warehouse_path,
)
from benchmarks.targets import HUNDRED_MILLION, TEN_MILLION

DEFAULT_SIZES = (1_000_000,)
DEFAULT_REDUCERS = ("pca", "autoencoder")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(DEFAULT_SIZES), help="numbers of customers")
    parser.add_argument("--ten-million", action="store_true", help=f"also benchmark {TEN_MILLION:,} customers (pca)")
    parser.add_argument(
        "--hundred-million",
        action="store_true",
        help=f"also build {HUNDRED_MILLION:,} customers (pca; no notebook beside it: it cannot hold them)",
    )
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
    for flag, size in ((args.ten_million, TEN_MILLION), (args.hundred_million, HUNDRED_MILLION)):
        if flag:
            plan.setdefault(size, [])
            if "pca" not in plan[size]:
                plan[size].append("pca")
    runs: list[Run] = []
    if not args.no_demo:
        for parse in (FULL_PARSE, SAME_VARS):
            runs.append(dbt_build(None, DEMO_CUSTOMERS, "pca", args.workdir, parse=parse))
    agreement = None
    for size, reducers in plan.items():
        customers = customers_file(size, args.workdir, source, args.seed)
        if size < HUNDRED_MILLION:
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
