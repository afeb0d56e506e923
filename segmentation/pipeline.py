"""Scale -> reduce -> k-means, fitted on the train split, applied to every customer.

The segment model is one scikit-learn :class:`~sklearn.pipeline.Pipeline`
(``StandardScaler -> PCA -> KMeans``) fitted on the customers of the train split.

Segment numbering rule: k-means labels are arbitrary, so segments are numbered
``1..k`` by the number of train customers in them, largest first; ties (rare) are broken
by the centroid coordinates in the reduced space, smallest first. The numbering therefore
depends only on the fitted model, not on k-means' internal label order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from segmentation.columns import CLUSTERING_FEATURES
from segmentation.params import ParameterError, SegmentationParams

#: k-means restarts; the best of them (lowest inertia) is kept.
N_INIT = 10

SEGMENT_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("segment_id", pa.int32(), nullable=False),
        pa.field("distance_to_centroid", pa.float64(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
    ]
)


class SegmentationError(ValueError):
    """The data cannot be segmented as asked; the message says why and what to do."""


def build_pipeline(params: SegmentationParams) -> Pipeline:
    """The unfitted ``StandardScaler -> PCA -> KMeans`` pipeline for ``params``."""
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("reduce", PCA(n_components=params.n_components, svd_solver="full", random_state=params.random_seed)),
            ("cluster", KMeans(n_clusters=params.n_segments, n_init=N_INIT, random_state=params.random_seed)),
        ]
    )


def feature_matrix(frame: pd.DataFrame, features: Sequence[str] = CLUSTERING_FEATURES) -> np.ndarray:
    """The clustering features of ``frame`` as a float64 matrix; refuses missing values."""
    absent = [name for name in features if name not in frame.columns]
    if absent:
        raise SegmentationError(
            f"the feature table lacks the clustering features {absent}; "
            f"columns found: {list(frame.columns)}. Rebuild int_customer_features_engineered."
        )
    matrix = frame[list(features)].to_numpy(dtype=np.float64)
    not_finite = ~np.isfinite(matrix)
    if not_finite.any():
        counts = {name: int(n) for name, n in zip(features, not_finite.sum(axis=0), strict=True) if n}
        raise SegmentationError(
            f"clustering features have missing or infinite values {counts}: "
            "int_customers_cleaned should have imputed them; check its rules against this data."
        )
    return matrix


def check_fit_size(params: SegmentationParams, n_train: int, n_features: int) -> None:
    """Stop early, with the counts, when the train split is too small for ``params``."""
    if n_train < params.n_segments:
        raise SegmentationError(
            f"only {n_train} customers in the train split, fewer than n_segments={params.n_segments}: "
            "load more customers or ask for fewer segments."
        )
    if isinstance(params.n_components, int) and params.n_components > min(n_train, n_features):
        raise ParameterError(
            f"var n_components={params.n_components} is more than the {min(n_train, n_features)} "
            f"components that {n_train} train customers and {n_features} features allow. "
            "Set it with: dbt build --vars '{n_components: 0.9}'"
        )


def segment_numbering(train_labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """``numbering[label]`` is the segment_id (1..k) of k-means label ``label``.

    Largest segment (by train customers) first; ties by centroid coordinates.
    """
    n_clusters = centroids.shape[0]
    sizes = np.bincount(train_labels, minlength=n_clusters)
    # np.lexsort sorts by the last key first: size (descending), then each coordinate.
    order = np.lexsort((*tuple(centroids[:, ::-1].T), -sizes))
    numbering = np.empty(n_clusters, dtype=np.int32)
    numbering[order] = np.arange(1, n_clusters + 1, dtype=np.int32)
    return numbering


def segment_customers(frame: pd.DataFrame, params: SegmentationParams) -> tuple[pa.Table, Pipeline]:
    """Fit the pipeline on the train split of ``frame`` and segment every customer.

    ``frame`` has ``customer_id``, ``split`` ('train'/'test') and the clustering
    features. The fit depends on the order of the rows (k-means++ samples them), so pass
    them in a fixed order (the model sorts by customer_id). Returns the segment table
    (:data:`SEGMENT_SCHEMA`, one row per input row, same order) and the fitted pipeline.
    """
    matrix = feature_matrix(frame)
    split = frame["split"].to_numpy()
    is_train = split == "train"
    check_fit_size(params, int(is_train.sum()), matrix.shape[1])
    pipeline = build_pipeline(params).fit(matrix[is_train])
    distances = pipeline.transform(matrix)  # distance to every centroid, reduced space
    labels = distances.argmin(axis=1)
    numbering = segment_numbering(labels[is_train], pipeline.named_steps["cluster"].cluster_centers_)
    table = pa.table(
        {
            "customer_id": pa.array(frame["customer_id"].to_numpy(), pa.string()),
            "segment_id": numbering[labels],
            "distance_to_centroid": distances[np.arange(len(labels)), labels],
            "split": pa.array(split, pa.string()),
        },
        schema=SEGMENT_SCHEMA,
    )
    return table, pipeline
