"""Diagnostic tables: PCA loadings, the reducer comparison, run metrics, segment quality.

Each function takes plain frames and returns a pandas DataFrame, one per dbt Python
model (``pca_components``, ``reducer_comparison``, ``segmentation_metrics``,
``segment_quality``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from segmentation.columns import CLUSTERING_FEATURES
from segmentation.log import logger
from segmentation.metrics import clustering_scores, inertia, label_centroids, segment_quality
from segmentation.params import REDUCERS, SegmentationParams
from segmentation.pipeline import N_INIT, component_columns, feature_matrix, train_mask
from segmentation.reducers import fit_reduction, n_reduced_dimensions


def pca_components(features: pd.DataFrame, params: SegmentationParams) -> pd.DataFrame:
    """One row per principal component and feature: the loading, and the component's
    explained and cumulative explained variance (PCA of the scaled train features)."""
    train = feature_matrix(features)[train_mask(features)]
    scaled = StandardScaler().fit_transform(train)
    pca = PCA(svd_solver="full", random_state=params.random_seed).fit(scaled)
    kept = n_reduced_dimensions(scaled, params.n_components, params.random_seed)
    n_components, n_features = pca.components_.shape
    component = np.repeat(np.arange(1, n_components + 1), n_features)
    return pd.DataFrame(
        {
            "component": component.astype(np.int32),
            "feature": np.tile(np.asarray(CLUSTERING_FEATURES, dtype=object), n_components),
            "loading": pca.components_.ravel(),
            "explained_variance_ratio": np.repeat(pca.explained_variance_ratio_, n_features),
            "cumulative_explained_variance_ratio": np.repeat(np.cumsum(pca.explained_variance_ratio_), n_features),
            "is_kept": component <= kept,
        }
    )


def reducer_comparison(features: pd.DataFrame, params: SegmentationParams, n_segments: int) -> pd.DataFrame:
    """One row per reducer (none, pca, autoencoder) at the same size, measured on the test
    split in the scaled feature space, so that the rows compare: reconstruction R-squared,
    and silhouette and Davies-Bouldin of the k-means segments fitted on its train rows."""
    matrix = feature_matrix(features)
    is_train = train_mask(features)
    train, test = matrix[is_train], matrix[~is_train]
    rows = []
    for name in REDUCERS:
        started = time.perf_counter()
        reduction = fit_reduction(train, params, reducer=name)
        kmeans = KMeans(n_clusters=n_segments, n_init=N_INIT, random_state=params.random_seed)
        kmeans.fit(reduction.transform(train))
        fit_seconds = time.perf_counter() - started
        scaled_test = reduction.named_steps["scale"].transform(test)
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
    return pd.DataFrame(rows)


def _split_values(reduced: pd.DataFrame, segments: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    merged = reduced.merge(segments[["customer_id", "segment_id"]], on="customer_id", validate="one_to_one")
    values = merged[component_columns(reduced)].to_numpy(dtype=np.float64)
    return values, merged["segment_id"].to_numpy(), train_mask(merged)


def segmentation_metrics(
    reduced: pd.DataFrame,
    segments: pd.DataFrame,
    elbow: pd.DataFrame,
    params: SegmentationParams,
) -> pd.DataFrame:
    """One row for the build: parameters, split sizes, inertia, silhouette,
    Davies-Bouldin and Calinski-Harabasz on train and on test, and the generalisation
    score (adjusted Rand index between the test customers' segments from the
    train-fitted model and from k-means fitted on the test split alone)."""
    values, segment_ids, is_train = _split_values(reduced, segments)
    ids = np.unique(segment_ids[is_train])
    centroids = label_centroids(values[is_train], segment_ids[is_train], ids)
    label_of = {segment: index for index, segment in enumerate(ids)}
    labels = np.array([label_of[segment] for segment in segment_ids])
    n_segments = int(elbow.loc[elbow["is_selected"], "k"].iloc[0])
    row: dict[str, object] = {
        "built_at": datetime.now(UTC).replace(tzinfo=None),
        "n_segments": n_segments,
        "n_segments_requested": params.n_segments_label,
        "knee_k": int(elbow.loc[elbow["is_knee"], "k"].iloc[0]) if elbow["is_knee"].any() else None,
        "reducer": params.reducer,
        "n_components_requested": str(params.n_components),
        "n_dimensions": values.shape[1],
        "random_seed": params.random_seed,
        "elbow_sample_size": int(elbow["elbow_sample_size"].iloc[0]),
        "silhouette_sample_size": params.silhouette_sample_size,
        "train_customer_count": int(is_train.sum()),
        "test_customer_count": int((~is_train).sum()),
    }
    for split, mask in (("train", is_train), ("test", ~is_train)):
        scores = clustering_scores(values[mask], labels[mask], params.silhouette_sample_size, params.random_seed)
        row[f"{split}_inertia"] = inertia(values[mask], labels[mask], centroids) if mask.any() else np.nan
        for name, value in scores.items():
            row[f"{split}_{name}"] = value
    test_values = values[~is_train]
    if len(test_values) >= n_segments:
        own = KMeans(n_clusters=n_segments, n_init=N_INIT, random_state=params.random_seed).fit(test_values)
        row["test_generalisation_ari"] = float(adjusted_rand_score(labels[~is_train], own.labels_))
    else:
        row["test_generalisation_ari"] = np.nan
    return pd.DataFrame([row])


def segment_quality_by_split(reduced: pd.DataFrame, segments: pd.DataFrame, params: SegmentationParams) -> pd.DataFrame:
    """One row per segment and split: how crisp the segment is (see
    :func:`segmentation.metrics.segment_quality`). Centroids are the means of the
    segment's train customers in the reduced space."""
    values, segment_ids, is_train = _split_values(reduced, segments)
    ids = np.unique(segment_ids[is_train])
    centroids = label_centroids(values[is_train], segment_ids[is_train], ids)
    frames = []
    for split, mask in (("train", is_train), ("test", ~is_train)):
        quality = segment_quality(
            values[mask], segment_ids[mask], centroids, ids, params.silhouette_sample_size, params.random_seed
        )
        frames.append(quality.assign(split=split))
    result = pd.concat(frames, ignore_index=True)
    return result[["segment_id", "split", *[c for c in result.columns if c not in ("segment_id", "split")]]]
