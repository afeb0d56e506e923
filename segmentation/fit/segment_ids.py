"""Segment ids: numbering a first version, matching a refit to the previous one.

Numbering rule of a first version: k-means labels are arbitrary, so segments are
numbered ``1..k`` by the number of train customers in them, largest first; ties (rare)
are broken by the centroid coordinates in the reduced space, smallest first
(:func:`segment_numbering`).

A later version with the same number of segments takes the ids of the previous version:
its centroids are matched to the previous version's in the scaled feature space (both
standardised with the new version's scaler, on the features both use) by the assignment
of minimum total distance (Hungarian method), so the same behaviour keeps the same id
(:func:`match_to_previous`). When the number of segments changes, the numbering rule
numbers them afresh, and the build output says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from segmentation.log import logger
from segmentation.scoring.model import SegmentModel, log_shifted


@dataclass(frozen=True)
class PreviousSegments:
    """The segments of the version a refit is matched to: their ids and centroids in
    real feature units."""

    model_version: int
    features: tuple[str, ...]
    segment_ids: np.ndarray
    centroids_real: np.ndarray


def match_to_previous(
    profiles_scaled: np.ndarray, model: SegmentModel, previous: PreviousSegments
) -> np.ndarray | None:
    """``ids[label]``: the previous version's segment_id for each new label, by the
    assignment of minimum total distance between centroids in the new scaled feature
    space; None when the versions cannot be matched (different k or no common feature)."""
    n_segments = len(profiles_scaled)
    if len(previous.segment_ids) != n_segments:
        logger.warning(
            f"segment ids: the previous model version {previous.model_version} has {len(previous.segment_ids)} "
            f"segments and this one {n_segments}; numbering by size instead of matching"
        )
        return None
    common = [name for name in model.features if name in previous.features]
    if not common:
        logger.warning(f"segment ids: no feature in common with version {previous.model_version}; numbering by size")
        return None
    new_columns = [model.features.index(name) for name in common]
    old_columns = [previous.features.index(name) for name in common]
    # The previous centroids in real units, transformed and scaled as this version does.
    old_transformed = log_shifted(
        previous.centroids_real[:, old_columns], model.log_shifts[new_columns], model.zero_values[new_columns]
    )
    old_scaled = (old_transformed - model.scaler_mean[new_columns]) / model.scaler_scale[new_columns]
    new_scaled = np.nan_to_num(profiles_scaled[:, new_columns])
    cost = np.sqrt(((new_scaled[:, None, :] - old_scaled[None, :, :]) ** 2).sum(axis=2))
    new_rows, old_rows = linear_sum_assignment(cost)
    ids = np.empty(n_segments, dtype=np.int32)
    ids[new_rows] = previous.segment_ids[old_rows]
    logger.info(
        f"segment ids matched to model version {previous.model_version} "
        f"(total centroid distance {cost[new_rows, old_rows].sum():.3f} standard deviations)"
    )
    return ids


def reorder_by_id(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Rows of ``values`` (one per k-means label) reordered so row i is segment_id i + 1."""
    return values[np.argsort(ids, kind="stable")]


def segment_numbering(train_labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """``numbering[label]`` is the segment_id (1..k) of k-means label ``label``.

    Largest segment (by train customers) first; ties by centroid coordinates.
    """
    return numbering_by_size(np.bincount(train_labels, minlength=centroids.shape[0]), centroids)


def numbering_by_size(sizes: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """:func:`segment_numbering` from the train size of each label (``sizes[label]``)."""
    n_clusters = centroids.shape[0]
    # np.lexsort sorts by the last key first: size (descending), then each coordinate.
    order = np.lexsort((*tuple(centroids[:, ::-1].T), -sizes))
    numbering = np.empty(n_clusters, dtype=np.int32)
    numbering[order] = np.arange(1, n_clusters + 1, dtype=np.int32)
    return numbering
