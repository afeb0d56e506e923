"""What a new version learns about its own train split, beside the centroids.

Stored with the version (``segmentation_models``) so that every later build, and
especially one with ``refit: false``, can compare today's customers with the ones the
version was fitted on:

- :func:`segment_radii`: per segment, the root mean square distance of its train
  customers to its centroid (``normalized_distance`` divides by it);
- :func:`atypical_threshold`: the normalized distance above which a customer is
  ``is_atypical``, the ``1 - contamination`` quantile over train customers, so that a
  share ``contamination`` of them is flagged (BigQuery ML's ``ML.DETECT_ANOMALIES`` rule
  for k-means, with the radius as root mean square);
- :func:`segment_feature_medians`: per segment and clustering feature, the median in real
  units (the explanations quote them: "segment median 380");
- :func:`reference_bins`: per clustering feature, quantile bins of the train values and
  the train share in each (the drift reference, :mod:`segmentation.evaluation.drift`).

All four come from the fit's seeded sample of train customers (var
``kmeans_sample_size``, every train customer when there are fewer), computed so that the
same sample gives the same numbers bit for bit (sums in sorted order; quantiles and medians
do not depend on the order): two builds with the same seed store identical versions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segmentation.scoring.model import SegmentModel

#: Quantile bins per feature in the drift reference (deciles; fewer where values repeat).
REFERENCE_BIN_COUNT = 10


def segment_radii(model: SegmentModel, reduced_train: np.ndarray) -> np.ndarray:
    """Per segment, the root mean square distance of its train customers to its centroid
    (0 for a segment without any). The squares are summed in sorted order, so the same
    customers give the same radius bit for bit, whatever order they come in."""
    segment_ids, distances, _ = model.assign(reduced_train)
    radii = np.zeros(model.n_segments)
    for segment in range(1, model.n_segments + 1):
        squares = np.sort(distances[segment_ids == segment] ** 2)
        if len(squares):
            radii[segment - 1] = np.sqrt(squares.sum() / len(squares))
    return radii


def atypical_threshold(model: SegmentModel, reduced_train: np.ndarray, contamination: float) -> float:
    """The ``1 - contamination`` quantile of the train customers' normalized distances
    (``model`` has its final centroids and radii)."""
    segment_ids, distances, _ = model.assign(reduced_train)
    normalized = model.normalized_distance(segment_ids, distances)
    normalized = normalized[np.isfinite(normalized)]
    if not len(normalized):
        return float("nan")
    return float(np.quantile(normalized, 1.0 - contamination))


def segment_feature_medians(raw_train: np.ndarray, segment_ids: np.ndarray, n_segments: int) -> np.ndarray:
    """``medians[segment - 1, j]``: the median of raw feature ``j`` over the train rows of
    ``segment`` (NaN for a segment without rows)."""
    medians = np.full((n_segments, raw_train.shape[1]), np.nan)
    for segment in range(1, n_segments + 1):
        rows = raw_train[segment_ids == segment]
        if len(rows):
            medians[segment - 1] = np.median(rows, axis=0)
    return medians


def bin_edges(values: np.ndarray, n_bins: int = REFERENCE_BIN_COUNT) -> np.ndarray:
    """Cut points of ``n_bins`` quantile bins of ``values`` (the inner quantiles,
    duplicates dropped: a value held by many customers, such as a zero, gets one bin)."""
    inner = np.quantile(values, np.arange(1, n_bins) / n_bins)
    return np.unique(inner)


def bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The share of ``values`` in each bin ``(-inf, e1], (e1, e2], ..., (e_last, inf)``."""
    positions = np.searchsorted(edges, values, side="left")
    return np.bincount(positions, minlength=len(edges) + 1) / len(values)


def reference_bins(raw_train: np.ndarray, features: Sequence[str]) -> list[dict]:
    """Per feature: its name, the quantile bin edges of its train values and the train
    share in each bin (registry column ``reference_bins``)."""
    bins = []
    for position, feature in enumerate(features):
        values = raw_train[:, position]
        edges = bin_edges(values)
        bins.append({"feature": feature, "edges": edges.tolist(), "shares": bin_shares(values, edges).tolist()})
    return bins
