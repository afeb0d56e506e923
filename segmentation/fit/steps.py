"""The small steps of a fit: the size check, the features kept, k-means, the selected k.

The procedure that runs them in order is :mod:`segmentation.fit.procedure`. Every fit
depends on the order of its input rows (k-means++ and the autoencoder sample them), so
the fit reads its sample sorted by ``customer_id``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from segmentation.log import logger
from segmentation.scoring.model import SegmentationError, feature_matrix


def fit_kmeans(reduced_train: np.ndarray, n_segments: int, n_init: int, random_seed: int) -> np.ndarray:
    """k-means centroids (k-means' own label order) fitted on the reduced train rows."""
    return KMeans(n_clusters=n_segments, n_init=n_init, random_state=random_seed).fit(reduced_train).cluster_centers_


#: k-means restarts of the segment model; the best of them (lowest inertia) is kept.
N_INIT = 10


def train_mask(frame: pd.DataFrame) -> np.ndarray:
    return frame["split"].to_numpy() == "train"


def check_fit_size(n_segments: int, n_train: int) -> None:
    """Stop early, with the counts, when the train split is too small for k segments."""
    if n_train < n_segments:
        raise SegmentationError(
            f"only {n_train} customers in the train split, fewer than n_segments={n_segments}: "
            "load more customers or ask for fewer segments."
        )


def varying_features(train: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Which features vary on the train rows. A constant feature (for example one made
    from a column that is empty for every customer) says nothing about behaviour: it is
    left out of clustering, with a warning in the build output."""
    return varying_by_range(np.ptp(train, axis=0) if len(train) else None, names)


def varying_by_range(ranges: np.ndarray | None, names: Sequence[str]) -> np.ndarray:
    """:func:`varying_features` from each feature's range (max - min) on the train rows
    (None when there are no train rows)."""
    varies = ranges > 0 if ranges is not None else np.ones(len(names), dtype=bool)
    constant = [name for name, keep in zip(names, varies, strict=True) if not keep]
    if constant:
        logger.warning(f"constant features left out of clustering (same value for every train customer): {constant}")
    if not varies.any():
        raise SegmentationError(
            "every clustering feature is constant on the train split: these customers cannot be told apart. "
            "Check the customers file: are the amount and frequency columns filled?"
        )
    return varies


def usable_feature_matrix(
    features: pd.DataFrame, clustering_features: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The ``clustering_features`` that vary on the train split, for every row of
    ``features``; the train mask; and the names of the features kept."""
    matrix = feature_matrix(features, clustering_features)
    is_train = train_mask(features)
    varies = varying_features(matrix[is_train], clustering_features)
    names = [name for name, keep in zip(clustering_features, varies, strict=True) if keep]
    return (matrix if varies.all() else matrix[:, varies]), is_train, names


def selected_n_segments(elbow: pd.DataFrame) -> int:
    """The k marked ``is_selected`` in the elbow table (0 for an empty table, as in
    ``dbt build --empty``)."""
    if elbow.empty:
        return 0
    selected = elbow.loc[elbow["is_selected"], "k"]
    if len(selected) != 1:
        raise SegmentationError(f"segment_elbow must mark exactly one selected k, found {len(selected)}")
    return int(selected.iloc[0])
