"""``make quality``: are the segments real groups of customers? The build beside the notebook.

For every holdout of the planted family (:data:`segmentation.planted.FAMILY`) it writes
the customers (labels kept apart), builds the segments with the real ``dbt build`` (the
models up to ``customer_segments``, k = the number of planted groups, read in the build
workspace), runs the notebook method on the same file (median imputation,
``StandardScaler`` on the 17 raw columns, ``KMeans`` fitted on an 80% train split) and
scores both against the planted groups with the adjusted Rand index (ARI). On
``../shared/data/cc_general.csv`` (when present) it builds k = 3 with ``random_seed`` 1
and 2: the segment sizes and names, and the share of customers keeping their
``segment_id`` from one seed to the other. It writes ``docs/quality.md``.

    python -m benchmarks.quality [--rows 9000] [--shapes g3_plain g5_zero_balance] [--out docs/quality.md]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from benchmarks import PROJECT_ROOT
from benchmarks.customers import CC_GENERAL_CSV
from benchmarks.measuring import BenchmarkError
from segmentation.generator import write_table
from segmentation.planted import FAMILY, FAMILY_BY_NAME, PlantedShape, planted_customers
from segmentation.serving.publish import BuildArea

#: The models a quality build runs: everything ``customer_segments`` needs, no marts.
SEGMENT_MODELS = (
    "--select",
    "+customer_segments",
    "--indirect-selection",
    "cautious",
    "--exclude",
    "resource_type:unit_test",
)
DEFAULT_ROWS = 9_000
NOTEBOOK_TRAIN_SHARE = 0.8


@dataclass(frozen=True)
class HoldoutResult:
    shape: PlantedShape
    customers: int
    project_ari: float
    notebook_ari: float
    segment_shares: tuple[float, ...]

    def target(self) -> tuple[float, float]:
        """(margin over the notebook, floor) the project must reach on this holdout."""
        return (0.02, 0.90) if self.shape.n_groups >= 4 else (0.0, 0.92)

    def meets_target(self) -> bool:
        margin, floor = self.target()
        return self.project_ari >= self.notebook_ari + margin and self.project_ari >= floor


def notebook_segments(customers: pd.DataFrame, n_segments: int, seed: int = 42) -> np.ndarray:
    """The notebook method's segment of every customer: median imputation, StandardScaler
    on the raw columns, k-means fitted on a seeded 80% train split, every row predicted."""
    raw = customers.drop(columns=["CUST_ID"]).astype(float)
    raw = raw.fillna(raw.median())
    train = np.random.default_rng(seed).random(len(raw)) < NOTEBOOK_TRAIN_SHARE
    scaler = StandardScaler().fit(raw[train])
    kmeans = KMeans(n_clusters=n_segments, n_init=10, random_state=seed).fit(scaler.transform(raw[train]))
    return kmeans.predict(scaler.transform(raw))


def _dbt() -> str:
    found = Path(sys.executable).with_name("dbt")
    if not found.exists():
        raise BenchmarkError("dbt is not installed in this environment: run make setup first")
    return str(found)


def build_segments(customers_path: Path, n_segments: int, workdir: Path, random_seed: int = 42) -> pd.DataFrame:
    """``customer_id``, ``segment_id`` and ``segment_name`` of every clean customer, from a
    real ``dbt build`` of the models up to ``customer_segments`` on ``customers_path``."""
    database = workdir / "warehouse.duckdb"
    variables = {
        "customers_path": str(customers_path),
        "n_segments": n_segments,
        "random_seed": random_seed,
        "compare_reducers": False,
    }
    command = [
        _dbt(),
        "build",
        *SEGMENT_MODELS,
        "--vars",
        json.dumps(variables),
        "--target-path",
        str(workdir / "target"),
        "--log-path",
        str(workdir / "logs"),
    ]
    env = {**os.environ, "DBT_DUCKDB_PATH": str(database), "TF_CPP_MIN_LOG_LEVEL": "3"}
    completed = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BenchmarkError(f"dbt build failed on {customers_path}:\n{(completed.stdout + completed.stderr)[-4000:]}")
    workspace = BuildArea.of_published(database).workspace
    with duckdb.connect(str(workspace), read_only=True) as connection:
        return connection.sql(
            "select customer_id, segment_id, segment_name from customer_segments order by customer_id"
        ).df()


def measure_holdout(shape: PlantedShape, n_rows: int, workdir: Path) -> HoldoutResult:
    """Build the holdout ``shape`` of ``n_rows`` customers and score both methods."""
    folder = workdir / shape.name
    folder.mkdir(parents=True, exist_ok=True)
    customers, groups = planted_customers(shape, n_rows)
    path = folder / "customers.csv"
    write_table(customers, path)
    segments = build_segments(path, shape.n_groups, folder)
    planted = groups.set_index("customer_id")["planted_group"]
    project = adjusted_rand_score(planted.loc[segments["customer_id"]], segments["segment_id"])
    notebook = adjusted_rand_score(groups["planted_group"], notebook_segments(customers, shape.n_groups))
    shares = segments["segment_id"].value_counts(normalize=True).sort_index()
    result = HoldoutResult(shape, n_rows, float(project), float(notebook), tuple(float(s) for s in shares))
    print(f"  {shape.name}: project ARI {project:.3f}, notebook ARI {notebook:.3f}", flush=True)
    return result


@dataclass(frozen=True)
class RealDataResult:
    """cc_general, k = 3, built with random_seed 1 and 2."""

    segments: pd.DataFrame  # segment_id, segment_name, customers, share (seed 1)
    stability: float  # share of customers keeping their segment_id from seed 1 to seed 2


def measure_cc_general(source: Path, workdir: Path) -> RealDataResult:
    first = build_segments(source, 3, workdir / "cc_general_seed_1", random_seed=1)
    second = build_segments(source, 3, workdir / "cc_general_seed_2", random_seed=2)
    both = first.merge(second, on="customer_id", suffixes=("_1", "_2"))
    stability = float((both["segment_id_1"] == both["segment_id_2"]).mean())
    table = first.groupby(["segment_id", "segment_name"]).size().rename("customers").reset_index()
    table["share"] = table["customers"] / table["customers"].sum()
    return RealDataResult(table, stability)


def render(results: Sequence[HoldoutResult], real: RealDataResult | None, n_rows: int) -> str:
    lines = [
        "# Segment quality: planted groups and cc_general",
        "",
        "Written by `make quality` (`python -m benchmarks.quality`) on "
        f"{datetime.now(UTC):%Y-%m-%d}. Each holdout of the planted family "
        "(`segmentation/planted.py`) has "
        f"{n_rows:,} customers; the project's segments come from a real `dbt build` (k = the "
        "number of planted groups), the notebook's from `StandardScaler` on the 17 raw columns and "
        "`KMeans` (median imputation, 80% train split). Both are scored against the planted groups "
        "with the adjusted Rand index (ARI, 1 = the planted groups exactly). Target: with 4 or more "
        "groups, project >= notebook + 0.02 and >= 0.90; with 3, project >= notebook and >= 0.92.",
        "",
        "| holdout | groups | zeros per amount column | project ARI | notebook ARI | target met |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for result in results:
        lines.append(
            f"| {result.shape.name} | {result.shape.n_groups} | {result.shape.zero_share:.0%} | "
            f"{result.project_ari:.3f} | {result.notebook_ari:.3f} | {'yes' if result.meets_target() else 'no'} |"
        )
    if real is not None:
        lines += [
            "",
            "## cc_general, k = 3",
            "",
            f"Seed-to-seed stability (share of customers keeping their `segment_id` between "
            f"`random_seed` 1 and 2): **{real.stability:.3f}**.",
            "",
            "| segment_id | segment_name | customers | share |",
            "| ---: | --- | ---: | ---: |",
        ]
        for row in real.segments.itertuples():
            lines.append(f"| {row.segment_id} | {row.segment_name} | {row.customers:,} | {row.share:.1%} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="customers per holdout")
    parser.add_argument("--shapes", nargs="*", choices=sorted(FAMILY_BY_NAME), help="holdouts (default: all)")
    parser.add_argument("--workdir", type=Path, default=PROJECT_ROOT / "warehouse" / "quality")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "quality.md")
    parser.add_argument("--no-cc-general", action="store_true", help="skip the cc_general builds")
    args = parser.parse_args(argv)
    shapes = [FAMILY_BY_NAME[name] for name in args.shapes] if args.shapes else list(FAMILY)
    print(f"quality: {len(shapes)} planted holdouts of {args.rows:,} customers", flush=True)
    results = [measure_holdout(shape, args.rows, args.workdir) for shape in shapes]
    real = None
    if not args.no_cc_general and CC_GENERAL_CSV.exists():
        real = measure_cc_general(CC_GENERAL_CSV, args.workdir)
    args.out.write_text(render(results, real, args.rows))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
