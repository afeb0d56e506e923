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
import pyarrow as pa
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

from segmentation.log import logger
from segmentation.metrics import clustering_scores, inertia, kmeans_sample, label_centroids, segment_quality
from segmentation.params import REDUCERS, SegmentationParams
from segmentation.pipeline import N_INIT, component_columns, feature_matrix, train_mask, usable_feature_matrix
from segmentation.reducers import PCA_SOLVER, components_kept, fit_reduction
from segmentation.relations import frame_to_arrow
from segmentation.segment_model import SegmentModel

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
_SCORES = ("inertia", "silhouette", "davies_bouldin", "calinski_harabasz")
SEGMENTATION_METRICS_SCHEMA = pa.schema(
    [
        ("built_at", pa.timestamp("us")),
        ("model_version", pa.int32()),
        ("refit", pa.bool_()),
        ("n_segments", pa.int32()),
        ("n_segments_requested", pa.string()),
        ("knee_k", pa.int32()),
        ("reducer", pa.string()),
        ("n_components_requested", pa.string()),
        ("n_dimensions", pa.int32()),
        ("random_seed", pa.int64()),
        ("elbow_sample_size", pa.int64()),
        ("silhouette_sample_size", pa.int64()),
        ("train_customer_count", pa.int64()),
        ("test_customer_count", pa.int64()),
        *[(f"{split}_{score}", pa.float64()) for split in ("train", "test") for score in _SCORES],
        ("test_generalisation_ari", pa.float64()),
    ]
)
SEGMENT_QUALITY_SCHEMA = pa.schema(
    [
        ("segment_id", pa.int32()),
        ("split", pa.string()),
        ("customer_count", pa.int64()),
        ("mean_silhouette", pa.float64()),
        ("mean_distance_to_centroid", pa.float64()),
        ("p90_distance_to_centroid", pa.float64()),
        ("nearest_segment_id", pa.int32()),
        ("distance_to_nearest_centroid", pa.float64()),
    ]
)


def _train_and_test(features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Train and test rows of the usable clustering features, and their names."""
    matrix, is_train, names = usable_feature_matrix(features)
    return matrix[is_train], matrix[~is_train], names


def pca_components(features: pd.DataFrame, params: SegmentationParams, model: SegmentModel) -> pa.Table:
    """One row per principal component and feature: the loading, and the component's
    explained and cumulative explained variance. The PCA is of the train features that
    ``model`` (the version this build fitted) clusters, standardised with its scaler."""
    if features.empty:
        return PCA_COMPONENTS_SCHEMA.empty_table()
    names = list(model.features)
    scaled = model.scale(feature_matrix(features.loc[train_mask(features)], names))
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


def reducer_comparison(features: pd.DataFrame, params: SegmentationParams, n_segments: int) -> pa.Table:
    """One row per reducer (none, pca, autoencoder) at the same size, measured on the test
    split in the scaled feature space, so that the rows compare: reconstruction R-squared,
    and silhouette and Davies-Bouldin of the k-means segments fitted on its train rows."""
    if features.empty:
        return REDUCER_COMPARISON_SCHEMA.empty_table()
    train, test, _ = _train_and_test(features)
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
    return frame_to_arrow(pd.DataFrame(rows), REDUCER_COMPARISON_SCHEMA)


def _segmented_values(
    segmented: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reduced coordinates, segment_id and train mask of every customer of ``segmented``
    (:func:`segmentation.relations.read_segmented_customers`), the segment ids found on
    train, and their centroids (the means of the train members)."""
    values = segmented[component_columns(segmented)].to_numpy(dtype=np.float64)
    segment_ids = segmented["segment_id"].to_numpy()
    is_train = train_mask(segmented)
    ids = np.unique(segment_ids[is_train])
    return values, segment_ids, is_train, ids, label_centroids(values[is_train], segment_ids[is_train], ids)


def segmentation_metrics(
    segmented: pd.DataFrame,
    elbow: pd.DataFrame,
    params: SegmentationParams,
    reducer: str,
) -> pa.Table:
    """One row for the build: parameters, split sizes, inertia, silhouette,
    Davies-Bouldin and Calinski-Harabasz on train and on test, and the generalisation
    score (adjusted Rand index between the test customers' segments from the
    train-fitted model and from k-means fitted on the test split alone, on a seeded
    sample of at most ``kmeans_sample_size`` test customers; not computed when var refit
    is false, which fits nothing). ``segmented`` holds every customer's reduced
    coordinates and segment (:func:`segmentation.relations.read_segmented_customers`);
    ``reducer`` is the one of the model version in use."""
    if segmented.empty:
        return SEGMENTATION_METRICS_SCHEMA.empty_table()
    values, segment_ids, is_train, ids, centroids = _segmented_values(segmented)
    labels = np.searchsorted(ids, segment_ids)  # position of each customer's segment in ids
    n_segments = int(elbow.loc[elbow["is_selected"], "k"].iloc[0])
    row: dict[str, object] = {
        "built_at": datetime.now(UTC).replace(tzinfo=None),
        "model_version": int(segmented["model_version"].iloc[0]),
        "refit": params.refit,
        "n_segments": n_segments,
        "n_segments_requested": params.n_segments_label,
        "knee_k": int(elbow.loc[elbow["is_knee"], "k"].iloc[0]) if elbow["is_knee"].any() else None,
        "reducer": reducer,
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
    test = np.flatnonzero(~is_train)
    test = test[kmeans_sample(len(test), n_segments, params.kmeans_sample_size, params.random_seed)]
    if params.refit and len(test) >= n_segments:
        own = KMeans(n_clusters=n_segments, n_init=N_INIT, random_state=params.random_seed).fit(values[test])
        row["test_generalisation_ari"] = float(adjusted_rand_score(labels[test], own.labels_))
    else:
        row["test_generalisation_ari"] = np.nan
    return frame_to_arrow(pd.DataFrame([row]), SEGMENTATION_METRICS_SCHEMA)


def segment_quality_by_split(segmented: pd.DataFrame, params: SegmentationParams) -> pa.Table:
    """One row per segment and split: how crisp the segment is (see
    :func:`segmentation.metrics.segment_quality`). Centroids are the means of the
    segment's train customers in the reduced space."""
    if segmented.empty:
        return SEGMENT_QUALITY_SCHEMA.empty_table()
    values, segment_ids, is_train, ids, centroids = _segmented_values(segmented)
    frames = []
    for split, mask in (("train", is_train), ("test", ~is_train)):
        quality = segment_quality(
            values[mask], segment_ids[mask], centroids, ids, params.silhouette_sample_size, params.random_seed
        )
        frames.append(quality.assign(split=split))
    result = pd.concat(frames, ignore_index=True)
    result["nearest_segment_id"] = result["nearest_segment_id"].astype("Int32")
    return frame_to_arrow(result, SEGMENT_QUALITY_SCHEMA)
