"""Fit diagnostics: the PCA loadings, the reducer comparison and the feature transform
comparison.

Each function reads seeded samples of the engineered features through an engine and
returns the Arrow table of one dbt Python model (``pca_components``,
``reducer_comparison``, ``feature_transform_comparison``). How good the build's segments are is the evaluation side's
(:mod:`segmentation.evaluation`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

from segmentation.engines import Engine
from segmentation.fit.procedure import fit_sample_size
from segmentation.fit.reducers import PCA_SOLVER, components_kept, fit_reduction
from segmentation.fit.scores import clustering_scores, prediction_strength
from segmentation.fit.steps import N_INIT, usable_feature_matrix
from segmentation.fit.transforms import FEATURE_TRANSFORMS, log_columns
from segmentation.log import logger
from segmentation.params import REDUCERS, SegmentationParams
from segmentation.scoring.model import SegmentModel
from segmentation.tables import frame_to_arrow

#: At most this many train (and test) customers measure each feature transform: a
#: diagnostic, kept to about a second whatever the number of customers.
TRANSFORM_COMPARISON_SAMPLE_SIZE = 10_000
FEATURE_TRANSFORM_COMPARISON_SCHEMA = pa.schema(
    [
        ("feature_transform", pa.string()),
        ("n_dimensions", pa.int32()),
        ("test_silhouette", pa.float64()),
        ("test_davies_bouldin", pa.float64()),
        ("prediction_strength", pa.float64()),
        ("seed_stability", pa.float64()),
        ("smallest_segment_share", pa.float64()),
        ("largest_segment_share", pa.float64()),
        ("is_selected_feature_transform", pa.bool_()),
    ]
)

PCA_COMPONENTS_SCHEMA = pa.schema(
    [
        ("component", pa.int32()),
        ("feature", pa.string()),
        ("loading", pa.float64()),
        ("explained_variance_ratio", pa.float64()),
        ("cumulative_explained_variance_ratio", pa.float64()),
        ("is_kept", pa.bool_()),
    ]
)
REDUCER_COMPARISON_SCHEMA = pa.schema(
    [
        ("reducer", pa.string()),
        ("n_dimensions", pa.int32()),
        ("test_reconstruction_r2", pa.float64()),
        ("test_silhouette", pa.float64()),
        ("test_davies_bouldin", pa.float64()),
        ("fit_seconds", pa.float64()),
        ("is_selected_reducer", pa.bool_()),
    ]
)


def pca_components(features: Engine, params: SegmentationParams, model: SegmentModel) -> pa.Table:
    """One row per principal component and feature: the loading, and the component's
    explained and cumulative explained variance. The PCA is of the train features that
    ``model`` (the version this build fitted) clusters, standardised with its scaler, on
    the seeded sample of train customers the fit reads (at most ``kmeans_sample_size``;
    see :func:`segmentation.fit.procedure.fit_version`)."""
    if features.is_empty():
        return PCA_COMPONENTS_SCHEMA.empty_table()
    names = list(model.features)
    sample = features.sample(names, fit_sample_size(params), params.random_seed, split="train")
    scaled = model.scale(sample[names].to_numpy(dtype=np.float64))
    pca = PCA(svd_solver=PCA_SOLVER, random_state=params.random_seed).fit(scaled)
    kept = components_kept(pca.explained_variance_ratio_, params.n_components)
    n_components, n_features = pca.components_.shape
    component = np.repeat(np.arange(1, n_components + 1), n_features)
    table = pd.DataFrame(
        {
            "component": component.astype(np.int32),
            "feature": np.tile(np.asarray(names, dtype=object), n_components),
            "loading": pca.components_.ravel(),
            "explained_variance_ratio": np.repeat(pca.explained_variance_ratio_, n_features),
            "cumulative_explained_variance_ratio": np.repeat(np.cumsum(pca.explained_variance_ratio_), n_features),
            "is_kept": component <= kept,
        }
    )
    return frame_to_arrow(table, PCA_COMPONENTS_SCHEMA)


def reducer_comparison(
    features: Engine, params: SegmentationParams, n_segments: int, clustering_features: Mapping[str, str]
) -> pa.Table:
    """One row per reducer (none, pca, autoencoder) at the same size, measured on the test
    split in the scaled feature space, so that the rows compare: reconstruction R-squared,
    and silhouette and Davies-Bouldin of the k-means segments fitted on its train rows.
    Fitted on the fit's seeded sample of train customers and measured on a seeded sample
    of as many test customers (at most ``kmeans_sample_size`` each)."""
    if features.is_empty():
        return REDUCER_COMPARISON_SCHEMA.empty_table()
    train, test, logged = _comparison_samples(features, params, clustering_features, fit_sample_size(params))
    rows = []
    for name in REDUCERS:
        started = time.perf_counter()
        reduction = fit_reduction(train, params, reducer=name, log_columns=logged)
        kmeans = KMeans(n_clusters=n_segments, n_init=N_INIT, random_state=params.random_seed)
        kmeans.fit(reduction.transform(train))
        fit_seconds = time.perf_counter() - started
        scaled_test = reduction[:-1].transform(test)  # transformed and scaled
        reduced_test = reduction.named_steps["reduce"].transform(scaled_test)
        rebuilt = reduction.named_steps["reduce"].inverse_transform(reduced_test)
        residual = ((scaled_test - rebuilt) ** 2).sum()
        total = ((scaled_test - scaled_test.mean(axis=0)) ** 2).sum()
        scores = clustering_scores(
            scaled_test, kmeans.predict(reduced_test), params.silhouette_sample_size, params.random_seed
        )
        rows.append(
            {
                "reducer": name,
                "n_dimensions": int(reduced_test.shape[1]),
                "test_reconstruction_r2": float(1 - residual / total) if total > 0 else np.nan,
                "test_silhouette": scores["silhouette"],
                "test_davies_bouldin": scores["davies_bouldin"],
                "fit_seconds": fit_seconds,
                "is_selected_reducer": name == params.reducer,
            }
        )
        logger.info(f"reducer comparison: {name} done in {fit_seconds:.1f} s")
    return frame_to_arrow(pd.DataFrame(rows), REDUCER_COMPARISON_SCHEMA)


def _comparison_samples(
    features: Engine, params: SegmentationParams, clustering_features: Mapping[str, str], sample_size: int
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Seeded samples of at most ``sample_size`` train and as many test customers (the
    features that vary on the train split), and the positions of the log-transformed ones."""
    listed = list(clustering_features)
    samples = features.split_samples(listed, sample_size, params.random_seed)
    matrix, is_train, names = usable_feature_matrix(samples, listed)
    return matrix[is_train], matrix[~is_train], log_columns(names, clustering_features)


def feature_transform_comparison(
    features: Engine, params: SegmentationParams, n_segments: int, clustering_features: Mapping[str, str]
) -> pa.Table:
    """One row per value of var feature_transform: the build's pipeline (transform, scaler,
    reducer, k-means with the selected k) fitted on a seeded sample of train customers
    (at most ``elbow_sample_size`` and :data:`TRANSFORM_COMPARISON_SAMPLE_SIZE`) and
    measured on as many test customers, by label-free
    criteria (real data has no labels): silhouette and Davies-Bouldin in the space the
    candidate clusters, prediction strength (the train-fitted segments against k-means
    fitted on the test customers alone: :func:`~segmentation.fit.scores.prediction_strength`),
    seed-to-seed stability (adjusted Rand index of the test
    customers' segments between k-means seeded ``random_seed`` and ``random_seed + 1``)
    and the smallest and largest segment's share of the test customers."""
    if features.is_empty() or n_segments < 1:
        return FEATURE_TRANSFORM_COMPARISON_SCHEMA.empty_table()
    sample_size = min(params.elbow_sample_size, TRANSFORM_COMPARISON_SAMPLE_SIZE)
    train, test, logged = _comparison_samples(features, params, clustering_features, sample_size)
    rows = []
    for method in FEATURE_TRANSFORMS:
        reduction = fit_reduction(train, replace(params, feature_transform=method), log_columns=logged)
        reduced_train, reduced_test = reduction.transform(train), reduction.transform(test)
        labels = [
            KMeans(n_clusters=n_segments, n_init=N_INIT, random_state=seed).fit(reduced_train).predict(reduced_test)
            for seed in (params.random_seed, params.random_seed + 1)
        ]
        own = KMeans(n_clusters=n_segments, n_init=N_INIT, random_state=params.random_seed).fit_predict(reduced_test)
        scores = clustering_scores(reduced_test, labels[0], params.silhouette_sample_size, params.random_seed)
        shares = np.bincount(labels[0], minlength=n_segments) / max(len(labels[0]), 1)
        rows.append(
            {
                "feature_transform": method,
                "n_dimensions": int(reduced_test.shape[1]),
                "test_silhouette": scores["silhouette"],
                "test_davies_bouldin": scores["davies_bouldin"],
                "prediction_strength": prediction_strength(labels[0], own),
                "seed_stability": float(adjusted_rand_score(labels[0], labels[1])),
                "smallest_segment_share": float(shares.min()),
                "largest_segment_share": float(shares.max()),
                "is_selected_feature_transform": method == params.feature_transform,
            }
        )
    logger.info(f"feature transform comparison: {len(rows)} candidates on {len(train):,} train customers")
    return frame_to_arrow(pd.DataFrame(rows), FEATURE_TRANSFORM_COMPARISON_SCHEMA)
