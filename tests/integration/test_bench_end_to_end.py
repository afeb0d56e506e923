"""A real benchmark run end to end on a small file: the customers file, the notebook and
a real dbt build, the markdown written, and the quality check on the built warehouse."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks import PROJECT_ROOT
from benchmarks.customers import CC_GENERAL_CSV
from benchmarks.runs import sample_fit_agreement


@pytest.mark.dbt
def test_make_bench_runs_end_to_end_on_a_small_file(tmp_path):
    """A real benchmark run (without the demo build, to stay short): the customers file
    (cc_general resampled where it exists, else generated), the notebook and a real dbt
    build, the markdown written, and the quality check on the built warehouse."""
    out = tmp_path / "benchmarks.md"
    command = [sys.executable, "-m", "benchmarks.bench", "--sizes", "3000", "--reducers", "pca", "--no-demo"]
    subprocess.run(
        [*command, "--workdir", str(tmp_path / "work"), "--out", str(out)], cwd=PROJECT_ROOT, check=True, timeout=900
    )
    text = out.read_text()
    assert "| 3,000 | notebook (pandas + scikit-learn) |" in text
    assert "| 3,000 | dbt build, pca |" in text
    assert "| demo data (9,000 customers) | dbt build, pca, full parse | 15 s or less | not measured" in text
    assert "| 100,000,000 | dbt build, pca | completes, 4 GiB or less | not measured" in text
    assert "Slowest models (s): " in text and "segmentation_models" in text
    if CC_GENERAL_CSV.exists():
        assert "resampled with replacement" in text
        assert (tmp_path / "work" / "customers_3000_cc_general_seed42.parquet").exists()
    else:
        assert "the project's generator" in text
    assert (tmp_path / "work" / "exports_3000_pca" / "dim_customers.parquet").exists()
    assert (tmp_path / "work" / "notebook_segments_3000.parquet").exists()
    # 2,400 train customers, fewer than kmeans_sample_size: the sample is the whole split.
    ari, sample_size, n_train = sample_fit_agreement(tmp_path / "work" / "warehouse_3000_pca.duckdb")
    assert ari == 1.0 and sample_size == n_train and 2000 < n_train < 2800
