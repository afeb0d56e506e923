"""The benchmark (make bench): measuring, the summary of dbt's run results, the targets,
the markdown, and one small real run end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation import benchmark
from segmentation.benchmark import (
    GIB,
    MIB,
    NOTEBOOK,
    BenchmarkError,
    Measurement,
    Run,
    check_target,
    measure,
    render_markdown,
    run_results_summary,
    sample_fit_agreement,
)
from segmentation.params import SegmentationParams
from segmentation.pipeline import feature_matrix
from segmentation.registry import REGISTRY_SCHEMA, fit_version, load_model, read_registry
from tests.conftest import blob_features, naming_rules


def test_measure_reports_wall_time_and_the_peak_memory_of_the_process(tmp_path):
    # Touch every page of 400 MiB, so that it is resident.
    allocate = "import time; block = bytearray(400 * 2**20); block[::4096] = b'x' * (400 * 256); time.sleep(0.2)"
    measurement = measure([sys.executable, "-c", allocate], tmp_path / "child.log")
    assert 400 * MIB < measurement.peak_bytes < 2 * GIB
    assert measurement.seconds >= 0.2
    small = measure([sys.executable, "-c", "pass"], tmp_path / "small.log")
    assert small.peak_bytes < measurement.peak_bytes - 300 * MIB


def test_measure_fails_with_the_log_to_read(tmp_path):
    with pytest.raises(BenchmarkError, match=r"exit code 3\); see .*failing\.log"):
        measure([sys.executable, "-c", "print('boom'); raise SystemExit(3)"], tmp_path / "failing.log")
    assert "boom" in (tmp_path / "failing.log").read_text()


def test_run_results_summary_orders_models_and_counts_node_kinds(tmp_path):
    results = {
        "results": [
            {"unique_id": "model.project.stg_customers", "execution_time": 2.0},
            {"unique_id": "model.project.segmentation_models", "execution_time": 5.5},
            {"unique_id": "test.project.not_null_x.abc", "execution_time": 0.25},
            {"unique_id": "test.project.unique_x.def", "execution_time": 0.5},
            {"unique_id": "seed.project.demo_customers", "execution_time": 1.0},
        ]
    }
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps(results))
    models, totals = run_results_summary(path)
    assert models == [("segmentation_models", 5.5), ("stg_customers", 2.0)]
    assert totals == {"model": (2, 7.5), "test": (2, 0.75), "seed": (1, 1.0)}


def _run(customers: int, pipeline: str, seconds: float, peak_gib: float) -> Run:
    return Run(customers, pipeline, Measurement(seconds, int(peak_gib * GIB)))


def test_targets_are_checked_against_time_ratio_and_memory():
    pca, autoencoder, ten_million = benchmark.TARGETS
    fast = [_run(1_000_000, "dbt build, pca", 18.0, 1.5), _run(1_000_000, "dbt build, autoencoder", 30.0, 1.9)]
    assert check_target(pca, fast) == "met"
    assert check_target(autoencoder, fast) == "not met (1.67x dbt build, pca > 1.5x)"
    slow = [_run(1_000_000, "dbt build, pca", 25.0, 2.5)]
    assert check_target(pca, slow) == "not met (25.0 s > 20 s; 2.50 GiB > 2 GiB)"
    assert check_target(autoencoder, slow) is None  # not measured
    alone = [_run(1_000_000, "dbt build, autoencoder", 30.0, 2.5)]  # without the pca build
    assert check_target(autoencoder, alone) == "not met (2.50 GiB > 2 GiB)"
    assert check_target(autoencoder, [_run(1_000_000, "dbt build, autoencoder", 30.0, 1.5)]) is None
    big = [_run(10_000_000, "dbt build, pca", 80.0, 3.0), _run(10_000_000, NOTEBOOK, 150.0, 7.0)]
    assert check_target(ten_million, big) == "not met (0.53x notebook (pandas + scikit-learn) > 0.5x)"


def test_markdown_has_machine_results_ratios_targets_and_quality():
    runs = [
        _run(100_000, NOTEBOOK, 2.0, 0.3),
        Run(
            100_000,
            "dbt build, pca",
            Measurement(10.0, 600 * MIB),
            [("segmentation_models", 3.0), ("stg_customers", 1.0)],
            {"model": (22, 9.0), "test": (297, 8.0)},
        ),
    ]
    text = render_markdown(runs, (0.9931, 200_000, 800_000), datetime(2026, 11, 28, 5, 0, tzinfo=UTC))
    assert "cores" in text and "GiB memory" in text
    assert "| 100,000 | notebook (pandas + scikit-learn) | 2.0 | 307 |  |" in text
    assert "| 100,000 | dbt build, pca | 10.0 | 600 | 5.00x |" in text
    assert "| 1,000,000 | dbt build, pca | 20 s or less, 2 GiB or less | not measured in this run |" in text
    assert "**0.9931**" in text and "200,000 of the 800,000" in text
    assert "Slowest models (s): segmentation_models 3.0, stg_customers 1.0." in text


def test_kmeans_on_a_sample_finds_the_segments_of_the_whole_train_split():
    """What the benchmark measures at 1,000,000 customers, in miniature: k-means fitted on
    a seeded sample of the train split segments everyone as a fit on the whole split."""
    features, _ = blob_features(n_rows=6000)
    rules, empty = naming_rules(), read_registry(REGISTRY_SCHEMA.empty_table())
    sampled = fit_version(features, SegmentationParams(kmeans_sample_size=500), empty, rules)
    full = fit_version(features, SegmentationParams(kmeans_sample_size=10_000), empty, rules)
    matrix = None
    labels = []
    for row in (sampled, full):
        model = load_model(read_registry(row), 1)
        matrix = feature_matrix(features, model.features) if matrix is None else matrix
        labels.append(model.assign(model.reduce(matrix))[0])
    assert adjusted_rand_score(*labels) >= 0.98
    assert json.loads(sampled.column("parameters")[0].as_py())["kmeans_sample_size"] == 500
    assert not np.array_equal(sampled.column("centroids")[0].as_py(), full.column("centroids")[0].as_py())


def test_make_bench_runs_end_to_end_on_a_small_file(tmp_path):
    """A real benchmark run: generated Parquet, the notebook and a real dbt build, the
    markdown written, and the quality check on the built warehouse."""
    out = tmp_path / "benchmarks.md"
    command = [sys.executable, "-m", "segmentation.benchmark", "--sizes", "3000", "--reducers", "pca"]
    subprocess.run([*command, "--workdir", str(tmp_path / "work"), "--out", str(out)], check=True, timeout=900)
    text = out.read_text()
    assert "| 3,000 | notebook (pandas + scikit-learn) |" in text
    assert "| 3,000 | dbt build, pca |" in text
    assert "Slowest models (s): " in text and "segmentation_models" in text
    assert (tmp_path / "work" / "exports_3000_pca" / "dim_customers.parquet").exists()
    assert (tmp_path / "work" / "notebook_segments_3000.parquet").exists()
    # 2,400 train customers, fewer than kmeans_sample_size: the sample is the whole split.
    ari, sample_size, n_train = sample_fit_agreement(tmp_path / "work" / "warehouse_3000_pca.duckdb")
    assert ari == 1.0 and sample_size == n_train and 2000 < n_train < 2800


def test_kmeans_sample_is_never_smaller_than_the_number_of_segments():
    features, _ = blob_features(n_rows=1200)
    params = SegmentationParams(n_segments=12, kmeans_sample_size=10, elbow_max_k=4, silhouette_sample_size=300)
    row = fit_version(features, params, read_registry(REGISTRY_SCHEMA.empty_table()), naming_rules())
    assert row.column("n_segments")[0].as_py() == 12
    assert len(row.column("centroids")[0].as_py()) == 12
