"""``segmentation_metrics``: one row for the build, its parameters and train/test quality."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from segmentation.engines import Engine
from segmentation.evaluation.segmented import sampled_values, segmented_components
from segmentation.fit.scores import clustering_scores, kmeans_sample
from segmentation.fit.steps import N_INIT, selected_n_segments
from segmentation.params import SegmentationParams
from segmentation.tables import frame_to_arrow

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


def segmentation_metrics(
    segmented: Engine,
    elbow: pd.DataFrame,
    quality: pd.DataFrame,
    params: SegmentationParams,
    reducer: str,
    model_version: int | None,
) -> pa.Table:
    """One row for the build: parameters, split sizes, inertia, silhouette,
    Davies-Bouldin and Calinski-Harabasz on train and on test, and the generalisation
    score (adjusted Rand index between the test customers' segments from the
    train-fitted model and from k-means fitted on the test split alone; not computed when
    var refit is false, which fits nothing).

    ``segmented`` holds every customer's reduced coordinates and ``segment_id``
    (:func:`~segmentation.scoring.tables.scored_customers`), ``quality`` the rows of
    ``segment_quality`` measured on it: the sizes and inertia, over every customer, are
    theirs added up per split. Silhouette, Davies-Bouldin, Calinski-Harabasz and the
    adjusted Rand index on a seeded sample of at most ``kmeans_sample_size`` customers of
    each split (silhouette on at most ``silhouette_sample_size`` of those). ``reducer``
    and ``model_version`` are those of the model version in use."""
    if segmented.is_empty():
        return SEGMENTATION_METRICS_SCHEMA.empty_table()
    components = segmented_components(segmented)
    # The segments with train customers: those with a centroid, as segment_quality measured them.
    with_centroid = quality.loc[(quality["split"] == "train") & (quality["customer_count"] > 0), "segment_id"]
    ids = np.sort(with_centroid.unique())
    sample = segmented.split_samples(
        [*components, "segment_id"], max(params.kmeans_sample_size, len(ids)), params.random_seed
    )
    values, segment_ids, is_train = sampled_values(sample)
    labels = np.searchsorted(ids, segment_ids)  # position of each customer's segment in ids
    n_segments = selected_n_segments(elbow)
    per_split = quality.groupby("split")[["customer_count", "inertia"]].sum()
    row: dict[str, object] = {
        "built_at": datetime.now(UTC).replace(tzinfo=None),
        "model_version": model_version,
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
