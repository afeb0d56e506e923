"""Explanations and atypical customers: the rendered SQL gives what numpy gives (runner-up,
margin, normalized distance, the flag, per-feature contributions and the top reasons),
the contributions of a linear reducer sum to the margin, and the calibration flags the
contamination share of the train split. On the real features of the demo data and
cc_general: tests/integration/test_scoring_sql_parity.py."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA

from segmentation.fit.calibration import atypical_threshold, bin_edges, bin_shares, segment_radii
from segmentation.scoring.explanations import contributions, is_exact, reasons_select
from segmentation.scoring.model import DenseLayer, SegmentModel
from segmentation.scoring.sql import score_select

TOLERANCE = 1e-9
FEATURES = ("balance", "monthly_purchases", "purchases_frequency", "credit_limit")


def customers(n: int = 600, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    frame = pd.DataFrame({"customer_id": [f"C{i:04d}" for i in range(n)]})
    frame["balance"] = np.exp(rng.normal(5 + group, 0.6))
    frame["monthly_purchases"] = np.where(rng.random(n) < 0.2, 0.0, np.exp(rng.normal(4 + 0.5 * group, 0.8)))
    frame["purchases_frequency"] = np.clip(0.2 + 0.3 * group + rng.normal(0, 0.1, n), 0, 1)
    frame["credit_limit"] = np.exp(rng.normal(8, 0.3, n))
    return frame


def fitted(frame: pd.DataFrame, reducer: str, k: int = 3) -> SegmentModel:
    raw = frame[list(FEATURES)].to_numpy()
    shifts = np.array([50.0, 20.0, np.nan, 100.0])
    base = SegmentModel(FEATURES, np.zeros(4), np.ones(4), reducer, (), log_shifts=shifts)
    transformed = base.transform(raw)
    model = replace(base, scaler_mean=transformed.mean(axis=0), scaler_scale=transformed.std(axis=0))
    scaled = model.scale(raw)
    if reducer == "pca":
        pca = PCA(n_components=3, random_state=0).fit(scaled)
        model = replace(model, layers=(DenseLayer(pca.components_.T, -pca.mean_ @ pca.components_.T),))
    elif reducer == "autoencoder":
        rng = np.random.default_rng(1)
        model = replace(
            model,
            layers=(
                DenseLayer(rng.normal(size=(4, 5)), rng.normal(size=5), "relu"),
                DenseLayer(rng.normal(size=(5, 2)), rng.normal(size=2)),
            ),
        )
    reduced = model.reduce(raw)
    picks = np.random.default_rng(2).choice(len(reduced), k, replace=False)
    model = model.with_centroids(reduced[picks])
    model = replace(model, segment_radii=segment_radii(model, reduced))
    return replace(model, atypical_threshold=atypical_threshold(model, reduced, 0.05))


def profiles_of(model: SegmentModel, frame: pd.DataFrame) -> np.ndarray:
    raw = frame[list(FEATURES)].to_numpy()
    ids = model.assign(model.reduce(raw))[0]
    return np.array([model.scale(raw)[ids == s].mean(axis=0) for s in range(1, model.n_segments + 1)])


def medians_of(model: SegmentModel, frame: pd.DataFrame) -> np.ndarray:
    raw = frame[list(FEATURES)].to_numpy()
    ids = model.assign(model.reduce(raw))[0]
    return np.array([np.median(raw[ids == s], axis=0) for s in range(1, model.n_segments + 1)])


UNITS = {"balance": "currency", "monthly_purchases": "currency", "purchases_frequency": "share"}


def scored_and_explained(frame, model, profiles, medians) -> tuple[pd.DataFrame, pd.DataFrame]:
    """customer_segments' columns and customer_segment_reasons, by the rendered SQL."""
    with duckdb.connect() as connection:
        connection.register("frame", frame)
        scored = connection.sql(score_select(model, "frame", 1, {1: "a", 2: "b", 3: "c"})).df()
        connection.register("scored", scored)
        joined = (
            "(select scored.segment_id, scored.runner_up_segment_id, frame.* "
            "from scored join frame using (customer_id))"
        )
        return scored, connection.sql(reasons_select(model, profiles, medians, UNITS, joined)).df()


@pytest.mark.parametrize("reducer", ["pca", "none", "autoencoder"])
def test_sql_explanations_equal_numpy(reducer):
    frame = customers()
    model = fitted(frame, reducer)
    raw = frame[list(FEATURES)].to_numpy()
    reduced = model.reduce(raw)
    ids, distances, _ = model.assign(reduced)
    runner, margin = model.runner_up(reduced, ids)
    normalized = model.normalized_distance(ids, distances)
    profiles, medians = profiles_of(model, frame), medians_of(model, frame)
    expected = contributions(model, profiles, raw, ids, runner)

    scored, reasons = scored_and_explained(frame, model, profiles, medians)
    scored = scored.set_index("customer_id").loc[frame["customer_id"]]
    assert scored["runner_up_segment_id"].tolist() == runner.tolist()
    np.testing.assert_allclose(scored["assignment_margin"], margin, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(scored["normalized_distance"], normalized, rtol=0, atol=TOLERANCE)
    assert scored["is_atypical"].tolist() == (normalized > model.atypical_threshold).tolist()

    # Every positive contribution among the top three, in order, with its value and medians.
    for position, customer in enumerate(frame["customer_id"]):
        row = expected[position]
        order = [j for j in np.argsort(-row, kind="stable")[:3] if row[j] > 0]
        got = reasons[reasons["customer_id"] == customer].sort_values("reason_rank")
        assert got["feature"].tolist() == [FEATURES[j] for j in order], customer
        np.testing.assert_allclose(got["contribution"], row[order], rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(got["feature_value"], raw[position, order], rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(got["segment_median"], medians[ids[position] - 1, order], rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(got["runner_up_median"], medians[runner[position] - 1, order], atol=TOLERANCE)
    if is_exact(model):  # a linear reducer: the contributions split the margin exactly
        np.testing.assert_allclose(expected.sum(axis=1), margin, rtol=0, atol=1e-9)
    else:
        assert not np.allclose(expected.sum(axis=1), margin)


def test_a_reason_reads_as_a_sentence():
    frame = customers()
    model = fitted(frame, "pca")
    profiles, medians = profiles_of(model, frame), medians_of(model, frame)
    _, reasons = scored_and_explained(frame, model, profiles, medians)
    balance = reasons[reasons["feature"] == "balance"].iloc[0]
    assert balance["reason"] == (
        f"balance {round(balance['feature_value'])} $ (segment median {round(balance['segment_median'])} $, "
        f"runner-up median {round(balance['runner_up_median'])} $)"
    )
    frequency = reasons[reasons["feature"] == "purchases_frequency"]
    if len(frequency):
        value = round(frequency.iloc[0]["feature_value"], 2)
        assert frequency.iloc[0]["reason"].startswith(f"purchases frequency {value}")


def test_the_threshold_flags_the_contamination_share_of_train():
    frame = customers(n=4000)
    model = fitted(frame, "pca")
    reduced = model.reduce(frame[list(FEATURES)].to_numpy())
    ids, distances, _ = model.assign(reduced)
    flagged = model.normalized_distance(ids, distances) > model.atypical_threshold
    assert flagged.mean() == pytest.approx(0.05, abs=0.002)
    # The radius is the root mean square distance: on average a customer sits at 1.
    normalized = model.normalized_distance(ids, distances)
    for segment in range(1, 4):
        assert np.sqrt(np.mean(normalized[ids == segment] ** 2)) == pytest.approx(1.0, abs=1e-9)
    # The same customers in another order: the same radii, bit for bit.
    shuffled = reduced[np.random.default_rng(0).permutation(len(reduced))]
    assert segment_radii(model, shuffled).tolist() == model.segment_radii.tolist()


def test_a_version_without_calibration_scores_null_flags():
    frame = customers(n=50)
    model = replace(fitted(frame, "none"), segment_radii=np.empty(0), atypical_threshold=float("nan"))
    with duckdb.connect() as connection:
        connection.register("frame", frame)
        scored = connection.sql(score_select(model, "frame", 1, {1: "a", 2: "b", 3: "c"})).df()
    assert scored["normalized_distance"].isna().all()
    assert scored["is_atypical"].isna().all()
    assert scored["runner_up_segment_id"].notna().all()


def test_reference_bins_give_a_repeated_value_one_bin():
    values = np.concatenate([np.zeros(500), np.arange(1, 501, dtype=float)])
    edges = bin_edges(values)
    assert edges[0] == 0.0 and len(edges) == len(set(edges.tolist()))
    shares = bin_shares(values, edges)
    assert shares[0] == pytest.approx(0.5)
    assert shares.sum() == pytest.approx(1.0)
