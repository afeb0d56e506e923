"""Month after month on one warehouse, with real dbt builds: atypical customers calibrated
on the train split, drift against the version in use (a known shift in two features is
flagged, and only it; an unshifted resample flags nothing), and the segment history across
published builds, a rollback included."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from segmentation.serving.publish import BuildArea
from tests.conftest import DEMO_SEED_CSV, build_ok

pytestmark = pytest.mark.dbt

#: Lean builds: what this file checks needs no comparison table. The exploration marts
#: measure their quantiles and correlations on a seeded sample (checked after month 1).
STATISTICS_SAMPLE = 1_000
LEAN = {"compare_reducers": False, "compare_feature_transforms": False, "statistics_sample_size": STATISTICS_SAMPLE}
#: Raw columns shifted in month 2, and the clustering features they are the only input of.
SHIFTED = {"BALANCE_FREQUENCY": "balance_frequency", "PRC_FULL_PAYMENT": "prc_full_payment"}


def month_files(folder) -> dict[str, str]:
    """Month 1 (the demo customers), month 2 (the same customers, two columns shifted) and
    an unshifted resample of month 1 (new ids), as CSV files."""
    month_1 = pd.read_csv(DEMO_SEED_CSV)
    month_2 = month_1.copy()
    month_2["BALANCE_FREQUENCY"] = (month_2["BALANCE_FREQUENCY"] * 0.5).round(6)
    month_2["PRC_FULL_PAYMENT"] = np.minimum(month_2["PRC_FULL_PAYMENT"] + 0.4, 1.0).round(6)
    resample = month_1.sample(n=len(month_1), replace=True, random_state=7).reset_index(drop=True)
    resample["CUST_ID"] = [f"R{i:05d}" for i in range(len(resample))]
    paths = {}
    for name, frame in {"month_1": month_1, "month_2": month_2, "resample": resample}.items():
        paths[name] = str(folder / f"{name}.csv")
        frame.to_csv(paths[name], index=False)
    return paths


def drifted(run) -> list[str]:
    return run.query("select feature from feature_drift where is_drifted order by feature")["feature"].tolist()


def history(run) -> pd.DataFrame:
    return run.query("select * from customer_segment_history")


def assert_exploration_on_the_seeded_sample(run) -> None:
    """Quantiles and correlations of the exploration marts come from the customers with
    the smallest seeded hash; counts, ranges and means from every customer."""
    sample = f"order by hash(customer_id, 42), customer_id limit {STATISTICS_SAMPLE}"
    features = run.query(f"select * from int_customer_features_engineered {sample}")
    everyone = run.query("select balance, credit_limit from int_customer_features_engineered")
    correlation = run.scalar(
        "select correlation from rpt_feature_correlations where feature_a = 'balance' and feature_b = 'credit_limit'"
    )
    assert correlation == pytest.approx(features["balance"].corr(features["credit_limit"]), abs=1e-8)
    assert abs(correlation - everyone["balance"].corr(everyone["credit_limit"])) > 1e-6
    summary = run.query(
        "select * from rpt_feature_summary where feature_set = 'clustering feature' and feature = 'balance'"
    ).iloc[0]
    assert summary["median_value"] == pytest.approx(features["balance"].median(), abs=1e-8)
    assert summary["value_count"] == len(everyone)
    assert summary["mean_value"] == pytest.approx(everyone["balance"].mean(), abs=1e-8)
    customers = run.query(f"select balance from dim_customers {sample}")
    overall = run.query("select * from rpt_segment_distributions where segment_id = 0 and attribute = 'balance'").iloc[
        0
    ]
    assert overall["p50"] == pytest.approx(customers["balance"].median(), abs=1e-8)
    assert overall["customer_count"] == run.scalar("select count(*) from dim_customers")
    assert overall["max_value"] == run.scalar("select max(balance) from dim_customers")


def test_atypical_drift_and_history_across_months_and_a_rollback(tmp_path):
    files = month_files(tmp_path)
    area_root = tmp_path / "builds"

    # Month 1: a refitting build. A share `contamination` of the train split is atypical.
    first = build_ok(area_root, {**LEAN, "customers_path": files["month_1"], "contamination": 0.02})
    flagged = first.query(
        "select split, avg(cast(is_atypical as double)) as share, count(*) filter (where is_atypical) as flagged "
        "from dim_customers group by split"
    ).set_index("split")
    train = first.scalar("select count(*) from dim_customers where split = 'train'")
    assert abs(flagged.loc["train", "share"] - 0.02) <= 1.5 / train
    assert first.scalar("select count(*) from fct_campaign_audience") == (
        first.scalar("select count(*) from dim_customers") - flagged["flagged"].sum()
    )
    assert first.scalar("select sum(atypical_customer_count) from dim_segments") == flagged["flagged"].sum()
    assert drifted(first) == []
    first_build = BuildArea.of_published(first.database).current_build_id()
    assert set(history(first)["valid_from_build_id"]) == {first_build}
    assert history(first)["is_current"].all() and len(history(first)) == 9_000
    assert_exploration_on_the_seeded_sample(first)

    # Month 2, scored with the stored version: exactly the two shifted features drift.
    second = build_ok(area_root, {**LEAN, "customers_path": files["month_2"], "refit": False})
    assert drifted(second) == sorted(SHIFTED.values())
    assert "refit recommended" in second.output
    assert "WARN" in second.output and "refit_recommended_when_features_drift" in second.output
    second_build = BuildArea.of_published(second.database).current_build_id()
    moves = second.query("select * from customer_segment_moves")
    assert len(moves) > 0 and set(moves["build_id"]) == {second_build}
    assert (moves["from_segment_id"] != moves["to_segment_id"]).all()
    stretches = history(second)
    assert stretches.groupby("customer_id")["is_current"].sum().eq(1).all()
    closed = stretches[~stretches["is_current"]]
    assert set(closed["valid_to_build_id"]) == {second_build} and len(closed) == len(moves)

    # An unshifted resample of month 1: nothing drifts. Its customers are new: every
    # month-2 stretch closes, 9,000 new ones open.
    third = build_ok(area_root, {**LEAN, "customers_path": files["resample"], "refit": False})
    assert drifted(third) == []
    assert third.scalar("select max(psi) from feature_drift") < 0.05
    third_build = BuildArea.of_published(third.database).current_build_id()
    assert third.scalar(f"select count(*) from customer_segment_history where valid_from_build_id = '{third_build}'")

    # Roll back to month 2, then build month 1 again: the history forgets the build
    # readers no longer get, and continues from month 2.
    # As a user rolls back (make rollback): another process, which takes the build lock.
    rolled = subprocess.run(
        [sys.executable, "-m", "segmentation.serving.publish", "rollback"],
        env={**os.environ, "DBT_DUCKDB_PATH": str(third.database)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert BuildArea.of_published(third.database).current_build_id() == second_build
    fourth = build_ok(area_root, {**LEAN, "customers_path": files["month_1"], "refit": False})
    fourth_build = BuildArea.of_published(fourth.database).current_build_id()
    stretches = history(fourth)
    builds = set(stretches["valid_from_build_id"]) | set(stretches["valid_to_build_id"].dropna())
    assert third_build not in builds
    assert builds == {first_build, second_build, fourth_build}
    assert stretches.groupby("customer_id")["is_current"].sum().eq(1).all()
    assert not stretches["customer_id"].str.startswith("R").any()
    # Month 1's customers are back in their month-1 segments: the movers of month 2 move back.
    back = fourth.query(f"select * from customer_segment_moves where build_id = '{fourth_build}'")
    assert len(back) == len(moves)
    assert sorted(back["customer_id"]) == sorted(moves["customer_id"])
