"""Knee detection, the elbow table, the cluster measures and the diagnostic tables."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

from segmentation.engines import engine_for
from segmentation.evaluation.metrics import segmentation_metrics
from segmentation.evaluation.quality import segment_quality_by_split
from segmentation.fit.diagnostics import pca_components, reducer_comparison
from segmentation.fit.elbow import choose_n_segments, elbow_curve, find_knee
from segmentation.fit.reducers import n_reduced_dimensions
from segmentation.fit.scores import clustering_scores, inertia, seeded_sample, segment_quality, silhouette_samples_of
from segmentation.params import SegmentationParams
from tests.conftest import CLUSTERING_FEATURES, blob_features, fit_and_score


def test_knee_of_a_curve_with_a_known_elbow():
    ks = np.arange(1, 11)
    inertia_values = np.array([1000, 520, 260, 120, 110, 101, 93, 86, 80, 75], dtype=float)
    assert find_knee(ks, inertia_values) == 4


def test_no_knee_on_a_straight_line_or_a_short_curve():
    assert find_knee(np.arange(1, 8), np.linspace(100, 40, 7)) is None
    assert find_knee(np.array([1, 2]), np.array([10.0, 5.0])) is None


def _random_inertia_curves(n_curves: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Decreasing curves of every kind the elbow sees: sharp and soft elbows, near-straight
    lines, plateaus (equal steps), and measured k-means inertias of random blobs."""
    rng = np.random.default_rng(20261128)
    curves = []
    for index in range(n_curves):
        n_points = int(rng.integers(3, 16))
        ks = np.arange(1, n_points + 1)
        # One curve in ten is measured k-means inertias (each a dozen fits: the slow kind).
        kind = 3 if index % 10 == 9 else index % 3
        if kind == 0:  # exponential decay of random sharpness, plus noise
            values = np.exp(-rng.uniform(0.05, 2.0) * ks) + rng.uniform(0, 0.02, n_points)
        elif kind == 1:  # random decreasing steps
            values = np.cumsum(rng.exponential(1.0, n_points)[::-1])[::-1]
        elif kind == 2:  # steps rounded to a grid: ties and flat stretches
            values = np.round(np.cumsum(rng.exponential(1.0, n_points)[::-1])[::-1], 1)
        else:  # k-means inertias of blobs
            points, _ = make_blobs(n_samples=300, centers=int(rng.integers(1, 7)), random_state=index)
            values = np.array([KMeans(int(k), n_init=1, random_state=0).fit(points).inertia_ for k in ks])
        curves.append((ks, np.asarray(values, dtype=float)))
    return curves


@pytest.mark.slow  # k-means inertia curves and kneed, against 400 curves
def test_find_knee_agrees_with_kneed_on_many_curves():
    """find_knee reimplements kneed's offline Kneedle (convex, decreasing, S=1) without
    its imports; the reference package is a test dependency and must give the same knee."""
    from kneed import KneeLocator

    curves = _random_inertia_curves(400)
    found = 0
    for ks, values in curves:
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = KneeLocator(list(ks), list(values), curve="convex", direction="decreasing", S=1.0).knee
        assert find_knee(ks, values) == (None if expected is None else int(expected)), (ks, values)
        found += expected is not None
    assert 100 < found < len(curves)  # both outcomes are exercised


def test_elbow_curve_finds_the_number_of_blobs():
    values, _ = make_blobs(
        n_samples=1500, centers=4, n_features=5, cluster_std=0.8, center_box=(-15, 15), random_state=1
    )
    curve = elbow_curve(values, SegmentationParams(n_segments=None, elbow_max_k=8, silhouette_sample_size=500))
    assert curve["k"].tolist() == list(range(1, 9))
    assert curve["inertia"].is_monotonic_decreasing
    assert curve.loc[curve["is_knee"], "k"].tolist() == [4]
    assert curve.loc[curve["is_selected"], "k"].tolist() == [4]
    assert np.isnan(curve.loc[0, "silhouette"])
    assert curve.loc[curve["silhouette"].idxmax(), "k"] == 4


def test_elbow_range_reaches_a_larger_fixed_k_and_marks_it():
    values, _ = make_blobs(n_samples=300, centers=3, n_features=3, random_state=0)
    curve = elbow_curve(values, SegmentationParams(n_segments=12, elbow_max_k=5, silhouette_sample_size=300))
    assert curve["k"].max() == 12
    assert curve.loc[curve["is_selected"], "k"].tolist() == [12]


def test_elbow_uses_a_seeded_sample_of_at_most_elbow_sample_size():
    values, _ = make_blobs(n_samples=2000, centers=3, n_features=3, random_state=0)
    params = SegmentationParams(elbow_sample_size=500, elbow_max_k=4)
    first, second = elbow_curve(values, params), elbow_curve(values, params)
    assert (first["elbow_sample_size"] == 500).all()
    pd.testing.assert_frame_equal(first, second)


def test_auto_without_a_knee_falls_back_to_best_silhouette_and_says_so(caplog, monkeypatch):
    import segmentation.fit.elbow as elbow

    monkeypatch.setattr(elbow, "logger", logging.getLogger("segmentation.test"))
    curve = pd.DataFrame({"k": [1, 2, 3, 4], "silhouette": [np.nan, 0.3, 0.6, 0.5]})
    with caplog.at_level(logging.WARNING, logger="segmentation.test"):
        assert choose_n_segments(curve, SegmentationParams(n_segments=None), knee=None) == 3
    assert "no knee; falling back to k=3, the k with the highest silhouette" in caplog.text
    assert choose_n_segments(curve, SegmentationParams(n_segments=None), knee=2) == 2
    assert choose_n_segments(curve, SegmentationParams(n_segments=4), knee=2) == 4


def test_scores_on_known_structure():
    values, labels = make_blobs(n_samples=900, centers=3, n_features=4, cluster_std=0.5, random_state=1)
    good = clustering_scores(values, labels, sample_size=300, seed=0)
    shuffled = clustering_scores(values, np.random.default_rng(0).permutation(labels), sample_size=300, seed=0)
    assert good["silhouette"] > 0.7 > shuffled["silhouette"]
    assert good["davies_bouldin"] < 0.5 < shuffled["davies_bouldin"]
    assert good["calinski_harabasz"] > 10 * shuffled["calinski_harabasz"]
    single = clustering_scores(values, np.zeros(900, dtype=int), sample_size=300, seed=0)
    assert all(np.isnan(value) for value in single.values())


@pytest.mark.parametrize(("rows", "labels"), [(3000, 3), (3000, 10), (40, 4), (6, 3)])
def test_silhouettes_from_the_distance_matrix_are_scikit_learns(rows, labels):
    """silhouette_samples_of (one matrix product) gives scikit-learn's silhouette_samples,
    a row alone in its label included (0), with the distances given or not; a sample
    too large to keep the matrix of goes to scikit-learn itself."""
    from sklearn.metrics import pairwise_distances, silhouette_samples

    rng = np.random.default_rng(rows + labels)
    values = rng.normal(size=(rows, 5))
    assigned = rng.integers(0, labels, rows)
    assigned[0] = labels  # a label of one row
    expected = silhouette_samples(values, assigned)
    assert np.abs(silhouette_samples_of(values, assigned) - expected).max() < 1e-12
    distances = pairwise_distances(values)
    assert np.abs(silhouette_samples_of(values, assigned, distances) - expected).max() < 1e-12
    assert silhouette_samples_of(values, assigned)[0] == 0.0


def test_a_sample_too_large_for_its_distance_matrix_is_measured_by_scikit_learn(monkeypatch):
    import segmentation.fit.scores as scores

    values, labels = make_blobs(n_samples=400, centers=3, n_features=3, random_state=2)
    expected = scores.silhouette_samples_of(values, labels)
    monkeypatch.setattr(scores, "MAX_KEPT_SILHOUETTE_ROWS", 100)
    monkeypatch.setattr(scores, "pairwise_distances", None)  # must not be called
    assert np.abs(scores.silhouette_samples_of(values, labels) - expected).max() < 1e-12


def test_inertia_and_sampling():
    values = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0]])
    assert inertia(values, np.array([0, 0, 1]), np.array([[1.0, 0.0], [10.0, 10.0]])) == 2.0
    sample = seeded_sample(100, 10, seed=3)
    assert len(sample) == 10 and (np.diff(sample) > 0).all()
    np.testing.assert_array_equal(sample, seeded_sample(100, 10, seed=3))
    np.testing.assert_array_equal(seeded_sample(5, 10, seed=3), np.arange(5))


def test_segment_quality_separates_crisp_from_fuzzy():
    rng = np.random.default_rng(0)
    crisp = rng.normal([0, 0], 0.1, size=(200, 2))
    fuzzy = rng.normal([3, 0], 1.5, size=(200, 2))
    values = np.vstack([crisp, fuzzy])
    ids = np.repeat([1, 2], 200)
    centroids = np.array([[0.0, 0.0], [3.0, 0.0]])
    quality = segment_quality(values, ids, centroids, np.array([1, 2]), sample_size=400, seed=0).set_index("segment_id")
    assert quality.loc[1, "mean_silhouette"] > quality.loc[2, "mean_silhouette"]
    assert quality.loc[1, "p90_distance_to_centroid"] < quality.loc[2, "mean_distance_to_centroid"]
    assert quality.loc[1, "nearest_segment_id"] == 2
    assert quality.loc[1, "distance_to_nearest_centroid"] == pytest.approx(3.0)


@pytest.fixture(scope="module")
def blobs_build():
    features, _ = blob_features(n_rows=1000)
    # Gaussian blobs, negative "amounts" included: clustered as they are, so that the
    # measures below see the blobs' known structure.
    params = SegmentationParams(n_segments=3, silhouette_sample_size=400, feature_transform="none")
    segments, reduced, model, _ = fit_and_score(features, params)
    elbow = elbow_curve(reduced.loc[reduced["split"] == "train", ["component_1", "component_2"]].to_numpy(), params)
    segmented = reduced.merge(segments[["customer_id", "segment_id", "model_version"]], on="customer_id")
    return features, segmented, elbow, params, model


def metrics_of(segmented: pd.DataFrame, elbow: pd.DataFrame, params: SegmentationParams) -> pd.Series:
    """segmentation_metrics as the build chains it: after segment_quality, which it reads."""
    quality = segment_quality_by_split(engine_for(segmented), params).to_pandas()
    return segmentation_metrics(engine_for(segmented), elbow, quality, params, "pca", 1).to_pandas().iloc[0]


def test_segmentation_metrics_on_known_structure(blobs_build):
    _, segmented, elbow, params, _ = blobs_build
    metrics = metrics_of(segmented, elbow, params)
    assert metrics["n_segments"] == 3
    assert metrics["model_version"] == 1 and metrics["refit"] and metrics["reducer"] == "pca"
    assert metrics["train_customer_count"] + metrics["test_customer_count"] == 1000
    assert metrics["test_generalisation_ari"] == pytest.approx(1.0)
    assert metrics["train_silhouette"] > 0.6 and metrics["test_silhouette"] > 0.6
    assert metrics["test_inertia"] < metrics["train_inertia"]  # 200 test rows vs 800 train rows


def test_segment_quality_by_split_has_each_segment_and_split(blobs_build):
    _, segmented, _, params, _ = blobs_build
    quality = segment_quality_by_split(engine_for(segmented), params).to_pandas()
    assert sorted(zip(quality["segment_id"], quality["split"], strict=True)) == [
        (s, split) for s in (1, 2, 3) for split in ("test", "train")
    ]
    assert quality["customer_count"].sum() == 1000


def test_whole_table_statistics_equal_numpy(blobs_build):
    """Counts, distances to the train centroids (mean, p90) and inertia, computed by DuckDB
    over every customer, equal the same computation in numpy."""
    _, segmented, elbow, params, _ = blobs_build
    quality = segment_quality_by_split(engine_for(segmented), params).to_pandas().set_index(["segment_id", "split"])
    metrics = metrics_of(segmented, elbow, params)
    components = [column for column in segmented.columns if column.startswith("component_")]
    train = segmented[segmented["split"] == "train"]
    centroids = train.groupby("segment_id")[components].mean()
    distance = np.sqrt(((segmented[components] - centroids.loc[segmented["segment_id"]].to_numpy()) ** 2).sum(axis=1))
    for (segment_id, split), rows in segmented.assign(distance=distance).groupby(["segment_id", "split"]):
        row = quality.loc[(segment_id, split)]
        assert row["customer_count"] == len(rows)
        assert row["mean_distance_to_centroid"] == pytest.approx(rows["distance"].mean(), rel=1e-9)
        assert row["p90_distance_to_centroid"] == pytest.approx(np.quantile(rows["distance"], 0.9), rel=1e-9)
        assert row["inertia"] == pytest.approx(float((rows["distance"] ** 2).sum()), rel=1e-9)
    for split in ("train", "test"):
        in_split = (segmented["split"] == split).to_numpy()
        assert metrics[f"{split}_inertia"] == pytest.approx(float((distance[in_split] ** 2).sum()), rel=1e-9)


def test_pca_components_table(blobs_build):
    features, *_, model = blobs_build
    table = pca_components(engine_for(features), SegmentationParams(n_components=3), model).to_pandas()
    n_features = 18
    assert len(table) == n_features * n_features
    per_component = table.groupby("component")
    np.testing.assert_allclose(per_component["loading"].apply(lambda x: (x**2).sum()), 1.0)
    assert table["cumulative_explained_variance_ratio"].max() == pytest.approx(1.0)
    assert table.loc[table["is_kept"], "component"].unique().tolist() == [1, 2, 3]


@pytest.mark.parametrize("share", [0.3, 0.5, 0.75, 0.9, 0.99])
def test_pca_components_keeps_as_many_as_the_reducer(blobs_build, share):
    """is_kept marks the components a pca reducer keeps for a share of variance."""
    features, *_, model = blobs_build
    table = pca_components(engine_for(features), SegmentationParams(n_components=share), model).to_pandas()
    train = model.scale(features.loc[features["split"] == "train", list(model.features)].to_numpy())
    assert table.loc[table["is_kept"], "component"].nunique() == n_reduced_dimensions(train, share, 0)


@pytest.mark.slow  # trains the autoencoder
def test_reducer_comparison_rows_compare(blobs_build):
    features, *_ = blobs_build
    params = SegmentationParams(
        n_components=2, silhouette_sample_size=300, autoencoder_epochs=10, feature_transform="none"
    )
    table = reducer_comparison(engine_for(features), params, 3, CLUSTERING_FEATURES).to_pandas().set_index("reducer")
    assert table.index.tolist() == ["pca", "autoencoder", "none"]
    assert table.loc["none", "test_reconstruction_r2"] == pytest.approx(1.0)
    assert table.loc["none", "n_dimensions"] == 18
    assert table.loc[["pca", "autoencoder"], "n_dimensions"].tolist() == [2, 2]
    assert table.loc["pca", "test_reconstruction_r2"] < 1
    assert table["is_selected_reducer"].tolist() == [True, False, False]
    assert (table["test_silhouette"] > 0.5).all()
