"""Diagnostic tables: PCA loadings, the reducer comparison, run metrics, segment quality.

Each function takes plain frames and returns a pandas DataFrame, one per dbt Python
model (``pca_components``, ``reducer_comparison``, ``segmentation_metrics``,
``segment_quality``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

from segmentation.columns import CLUSTERING_FEATURES
from segmentation.fit.metrics import clustering_scores, kmeans_sample, segment_quality
from segmentation.fit.pipeline import N_INIT, train_mask, usable_feature_matrix
from segmentation.fit.reducers import PCA_SOLVER, components_kept, fit_reduction
from segmentation.fit.versions import fit_sample_size
from segmentation.log import logger
from segmentation.params import REDUCERS, SegmentationParams
from segmentation.relations import frame_to_arrow
from segmentation.scoring.features import FeatureTable, feature_table, relation_source
from segmentation.scoring.model import SegmentModel, component_columns

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


def pca_components(
    features: pd.DataFrame | Any, params: SegmentationParams, model: SegmentModel, connection: Any = None
) -> pa.Table:
    """One row per principal component and feature: the loading, and the component's
    explained and cumulative explained variance. The PCA is of the train features that
    ``model`` (the version this build fitted) clusters, standardised with its scaler, on
    the seeded sample of train customers the fit reads (at most ``kmeans_sample_size``;
    see :func:`segmentation.fit.versions.fit_version`). ``features``: pandas, or a DuckDB
    relation on ``connection``."""
    with feature_table(features, connection) as table:
        if table.is_empty():
            return PCA_COMPONENTS_SCHEMA.empty_table()
        names = list(model.features)
        sample = table.sample(names, fit_sample_size(params), params.random_seed, where="split = 'train'")
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
    features: pd.DataFrame | Any, params: SegmentationParams, n_segments: int, connection: Any = None
) -> pa.Table:
    """One row per reducer (none, pca, autoencoder) at the same size, measured on the test
    split in the scaled feature space, so that the rows compare: reconstruction R-squared,
    and silhouette and Davies-Bouldin of the k-means segments fitted on its train rows.
    Fitted on the fit's seeded sample of train customers and measured on a seeded sample
    of as many test customers (at most ``kmeans_sample_size`` each)."""
    with feature_table(features, connection) as table:
        if table.is_empty():
            return REDUCER_COMPARISON_SCHEMA.empty_table()
        samples = table.split_samples(CLUSTERING_FEATURES, fit_sample_size(params), params.random_seed)
    train, test, _ = _train_and_test(samples)
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


def _sampled_values(sample: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reduced coordinates, segment_id and train mask of the sampled customers."""
    return (
        sample[component_columns(sample)].to_numpy(dtype=np.float64),
        sample["segment_id"].to_numpy(),
        train_mask(sample),
    )


def _segment_stats(table: FeatureTable, components: list[str]) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Over every customer, by DuckDB in one query (two scans): the segment ids found on
    train, their centroids (the means of the train members, in the reduced space), and per
    split and segment the customer count, the mean, 90th percentile (linear interpolation)
    and sum of squares of the distance to the segment's train centroid, and the smallest
    ``model_version``."""
    means = ", ".join(f"avg({column}) as {column}" for column in components)
    squares = " + ".join(f"(segmented.{c} - centroids.{c}) * (segmented.{c} - centroids.{c})" for c in components)
    centroid_columns = ", ".join(f"any_value(centroids.{c}) as centroid_{c}" for c in components)
    stats = table.frame(
        f"with centroids as (select segment_id, {means} from {table.source} as segmented where split = 'train' "
        "group by segment_id) "
        "select segmented.split, segmented.segment_id, count(*) as customer_count, "
        f"avg(sqrt({squares})) as mean_distance_to_centroid, "
        f"quantile_cont(sqrt({squares}), 0.9) as p90_distance_to_centroid, sum({squares}) as inertia, "
        f"min(segmented.model_version) as model_version, count(centroids.segment_id) > 0 as has_centroid, "
        f"{centroid_columns} "
        f"from {table.source} as segmented left join centroids using (segment_id) "
        "group by segmented.split, segmented.segment_id order by segmented.split, segmented.segment_id"
    )
    with_centroid = stats.loc[stats["has_centroid"]].drop_duplicates("segment_id").sort_values("segment_id")
    ids = with_centroid["segment_id"].to_numpy()
    centroids = with_centroid[[f"centroid_{c}" for c in components]].to_numpy(dtype=np.float64)
    return ids, centroids.reshape(len(ids), len(components)), stats


def _segmented_components(table: FeatureTable) -> list[str]:
    return sorted(
        (column for column in table.columns() if column.startswith("component_")),
        key=lambda name: int(name.rsplit("_", 1)[1]),
    )


def segmentation_metrics(
    segmented: pd.DataFrame | Any,
    elbow: pd.DataFrame,
    params: SegmentationParams,
    reducer: str,
    connection: Any = None,
) -> pa.Table:
    """One row for the build: parameters, split sizes, inertia, silhouette,
    Davies-Bouldin and Calinski-Harabasz on train and on test, and the generalisation
    score (adjusted Rand index between the test customers' segments from the
    train-fitted model and from k-means fitted on the test split alone; not computed when
    var refit is false, which fits nothing).

    ``segmented`` holds every customer's reduced coordinates, ``segment_id`` and
    ``model_version`` (:func:`segmented_source`; pandas, or a DuckDB relation on
    ``connection``). Sizes and inertia are over every customer (DuckDB); silhouette,
    Davies-Bouldin, Calinski-Harabasz and the adjusted Rand index on a seeded sample of
    at most ``kmeans_sample_size`` customers of each split (silhouette on at most
    ``silhouette_sample_size`` of those). ``reducer`` is the one of the model version in use."""
    with feature_table(segmented, connection) as table:
        if table.is_empty():
            return SEGMENTATION_METRICS_SCHEMA.empty_table()
        components = _segmented_components(table)
        ids, _, stats = _segment_stats(table, components)
        model_version = stats["model_version"].min()
        sample = table.split_samples(
            [*components, "segment_id"], max(params.kmeans_sample_size, len(ids)), params.random_seed
        )
    values, segment_ids, is_train = _sampled_values(sample)
    labels = np.searchsorted(ids, segment_ids)  # position of each customer's segment in ids
    n_segments = int(elbow.loc[elbow["is_selected"], "k"].iloc[0])
    per_split = stats.groupby("split")[["customer_count", "inertia"]].sum()
    row: dict[str, object] = {
        "built_at": datetime.now(UTC).replace(tzinfo=None),
        "model_version": int(model_version),
        "refit": params.refit,
        "n_segments": n_segments,
        "n_segments_requested": params.n_segments_label,
        "knee_k": int(elbow.loc[elbow["is_knee"], "k"].iloc[0]) if elbow["is_knee"].any() else None,
        "reducer": reducer,
        "n_components_requested": str(params.n_components),
        "n_dimensions": len(components),
        "random_seed": params.random_seed,
        "elbow_sample_size": int(elbow["elbow_sample_size"].iloc[0]),
        "silhouette_sample_size": params.silhouette_sample_size,
        "train_customer_count": int(per_split["customer_count"].get("train", 0)),
        "test_customer_count": int(per_split["customer_count"].get("test", 0)),
    }
    for split, mask in (("train", is_train), ("test", ~is_train)):
        scores = clustering_scores(values[mask], labels[mask], params.silhouette_sample_size, params.random_seed)
        row[f"{split}_inertia"] = float(per_split["inertia"].get(split, np.nan)) if mask.any() else np.nan
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


def segment_quality_by_split(
    segmented: pd.DataFrame | Any, params: SegmentationParams, connection: Any = None
) -> pa.Table:
    """One row per segment and split: how crisp the segment is (see
    :func:`segmentation.fit.metrics.segment_quality`). Centroids are the means of the
    segment's train customers in the reduced space. Counts and distances are over every
    customer (DuckDB); the mean silhouette on a seeded sample of at most
    ``silhouette_sample_size`` customers of each split."""
    with feature_table(segmented, connection) as table:
        if table.is_empty():
            return SEGMENT_QUALITY_SCHEMA.empty_table()
        components = _segmented_components(table)
        ids, centroids, stats = _segment_stats(table, components)
        sample = table.split_samples([*components, "segment_id"], params.silhouette_sample_size, params.random_seed)
    values, segment_ids, is_train = _sampled_values(sample)
    frames = []
    for split, mask in (("train", is_train), ("test", ~is_train)):
        quality = segment_quality(
            values[mask], segment_ids[mask], centroids, ids, params.silhouette_sample_size, params.random_seed
        )
        frames.append(quality.assign(split=split))
    result = pd.concat(frames, ignore_index=True)
    # Sizes and distances over every customer, not the sample.
    exact = stats.set_index(["segment_id", "split"])
    keys = pd.MultiIndex.from_arrays([result["segment_id"], result["split"]])
    for column in ("customer_count", "mean_distance_to_centroid", "p90_distance_to_centroid"):
        result[column] = exact[column].reindex(keys).to_numpy()
    result["customer_count"] = result["customer_count"].fillna(0).astype(np.int64)
    result["nearest_segment_id"] = result["nearest_segment_id"].astype("Int32")
    return frame_to_arrow(result, SEGMENT_QUALITY_SCHEMA)


def segmented_source(reduced: Any, segments: Any) -> str:
    """SQL (usable after ``from``) joining ``customer_features_reduced`` and the
    ``segment_id`` and ``model_version`` of ``customer_segments`` (DuckDB relations)."""
    return (
        f"(select reduced.*, segments.segment_id, segments.model_version from {relation_source(reduced)} as reduced "
        f"inner join (select customer_id, segment_id, model_version from {relation_source(segments)} as s) as segments "
        "using (customer_id))"
    )
