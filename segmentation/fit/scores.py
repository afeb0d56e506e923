"""Cluster quality measures, computed the same way for every table that reports them.

Silhouette is quadratic in the number of rows, so it is computed on a seeded sample of at
most ``sample_size`` rows; Davies-Bouldin and Calinski-Harabasz are linear and use every
row. Measures that need two or more segments are NaN for a single one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances,
    silhouette_samples,
)


def seeded_sample(n_rows: int, sample_size: int, seed: int) -> np.ndarray:
    """Sorted row positions of a seeded sample of at most ``sample_size`` of ``n_rows``."""
    if n_rows <= sample_size:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=sample_size, replace=False))


def kmeans_sample(n_rows: int, n_segments: int, sample_size: int, seed: int) -> np.ndarray:
    """Sorted row positions k-means is fitted on: a seeded sample of at most
    ``sample_size`` (var kmeans_sample_size) rows, but never fewer than k."""
    return seeded_sample(n_rows, max(sample_size, n_segments), seed)


def inertia(values: np.ndarray, labels: np.ndarray, centroids: np.ndarray) -> float:
    """Sum of squared distances of the rows to the centroid of their label."""
    return float(((values - centroids[labels]) ** 2).sum())


#: Largest silhouette sample whose distance matrix :func:`silhouette_distances` keeps
#: (5,000 rows: 200 MB of float64); a larger one is measured chunk by chunk each time.
MAX_KEPT_SILHOUETTE_ROWS = 5_000


def silhouette_distances(values: np.ndarray, sample_size: int, seed: int) -> np.ndarray | None:
    """The pairwise distances of the rows :func:`clustering_scores` samples for the
    silhouette, computed once for the scores of several labellings of the same ``values``
    (the elbow curve's k = 1..10); None when the sample is too large to keep."""
    sample = seeded_sample(len(values), sample_size, seed)
    return pairwise_distances(values[sample]) if len(sample) <= MAX_KEPT_SILHOUETTE_ROWS else None


def silhouette_samples_of(values: np.ndarray, labels: np.ndarray, distances: np.ndarray | None = None) -> np.ndarray:
    """The silhouette of every row of ``values`` under ``labels``, as scikit-learn's
    ``silhouette_samples`` (0 for a row alone in its label). ``distances``: their pairwise
    distances, if already computed (:func:`silhouette_distances`).

    Up to :data:`MAX_KEPT_SILHOUETTE_ROWS` rows, from the distance matrix by one matrix
    product (each row's summed distance to every label: distances @ one-hot labels),
    instead of scikit-learn's loop of one ``bincount`` per row: 28 ms for each of the
    elbow curve's ten labellings of 3,000 rows, 4 ms this way, the same values (to 1e-14).
    Larger samples go to scikit-learn, which never holds the whole matrix."""
    if distances is None:
        if len(values) > MAX_KEPT_SILHOUETTE_ROWS:
            return silhouette_samples(values, labels)
        distances = pairwise_distances(values)
    label_values, codes = np.unique(labels, return_inverse=True)
    rows = np.arange(len(codes))
    members = np.zeros((len(codes), len(label_values)))
    members[rows, codes] = 1.0
    sizes = members.sum(axis=0)
    summed = distances @ members
    mean_to_label = summed / sizes
    mean_to_label[rows, codes] = np.inf
    nearest_other = mean_to_label.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        # A row's own distance (0) is in its label's sum: its mean is over the others
        # (0 / 0 for a row alone in its label: its silhouette is 0).
        within = summed[rows, codes] / (sizes[codes] - 1)
        silhouettes = (nearest_other - within) / np.maximum(within, nearest_other)
    return np.nan_to_num(silhouettes)


def clustering_scores(
    values: np.ndarray, labels: np.ndarray, sample_size: int, seed: int, distances: np.ndarray | None = None
) -> dict[str, float]:
    """Silhouette (sampled), Davies-Bouldin and Calinski-Harabasz of ``labels`` on ``values``;
    ``distances``, from :func:`silhouette_distances` on the same arguments, saves computing
    the sample's distances again."""
    n_labels = len(np.unique(labels))
    if n_labels < 2 or n_labels >= len(values):
        return {"silhouette": np.nan, "davies_bouldin": np.nan, "calinski_harabasz": np.nan}
    sample = seeded_sample(len(values), sample_size, seed)
    sampled_labels = labels[sample]
    if not 2 <= len(np.unique(sampled_labels)) < len(sample):
        silhouette = np.nan
    else:
        silhouette = float(silhouette_samples_of(values[sample], sampled_labels, distances).mean())
    return {
        "silhouette": silhouette,
        "davies_bouldin": float(davies_bouldin_score(values, labels)),
        "calinski_harabasz": float(calinski_harabasz_score(values, labels)),
    }


def label_centroids(values: np.ndarray, labels: np.ndarray, label_values: np.ndarray) -> np.ndarray:
    """The mean of the rows of each label, in the order of ``label_values``."""
    return np.vstack([values[labels == label].mean(axis=0) for label in label_values])


def segment_quality(
    values: np.ndarray,
    segment_ids: np.ndarray,
    centroids: np.ndarray,
    centroid_ids: np.ndarray,
    sample_size: int,
    seed: int,
) -> pd.DataFrame:
    """Per segment: size, mean silhouette (of its sampled members), mean and 90th
    percentile distance to its centroid, and the nearest other centroid.

    ``centroids[i]`` is the centroid of segment ``centroid_ids[i]``.
    """
    position = {segment: index for index, segment in enumerate(centroid_ids)}
    own = centroids[[position[segment] for segment in segment_ids]]
    distance = np.sqrt(((values - own) ** 2).sum(axis=1))
    sample = seeded_sample(len(values), sample_size, seed)
    silhouettes = np.full(len(values), np.nan)
    if 2 <= len(np.unique(segment_ids[sample])) < len(sample):
        silhouettes[sample] = silhouette_samples_of(values[sample], segment_ids[sample])
    between = pairwise_distances(centroids)
    np.fill_diagonal(between, np.inf)
    rows = []
    for index, segment in enumerate(centroid_ids):
        members = segment_ids == segment
        member_silhouettes = silhouettes[members]
        member_silhouettes = member_silhouettes[~np.isnan(member_silhouettes)]
        nearest = int(np.argmin(between[index])) if len(centroid_ids) > 1 else None
        rows.append(
            {
                "segment_id": int(segment),
                "customer_count": int(members.sum()),
                "mean_silhouette": float(member_silhouettes.mean()) if len(member_silhouettes) else np.nan,
                "mean_distance_to_centroid": float(distance[members].mean()) if members.any() else np.nan,
                "p90_distance_to_centroid": float(np.quantile(distance[members], 0.9)) if members.any() else np.nan,
                "nearest_segment_id": None if nearest is None else int(centroid_ids[nearest]),
                "distance_to_nearest_centroid": np.nan if nearest is None else float(between[index, nearest]),
            }
        )
    return pd.DataFrame(rows)


def prediction_strength(predicted: np.ndarray, own: np.ndarray) -> float:
    """Prediction strength (Tibshirani and Walther, 2005) of a segmentation on held-out
    rows: ``predicted`` are their segments from the model fitted on other rows, ``own``
    their segments from k-means fitted on them alone. For each ``own`` segment, the share
    of its pairs of rows that ``predicted`` also puts in one segment; the smallest share
    (segments of one row are left out; NaN when none is larger)."""
    counts = pd.crosstab(np.asarray(own), np.asarray(predicted)).to_numpy(dtype=np.float64)
    sizes = counts.sum(axis=1)
    larger = sizes > 1
    if not larger.any():
        return float("nan")
    together = (counts * (counts - 1)).sum(axis=1)
    return float((together[larger] / (sizes[larger] * (sizes[larger] - 1))).min())
