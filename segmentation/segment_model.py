"""A fitted segment model as plain numbers, and how it is fitted and scores customers.

A :class:`SegmentModel` is everything needed to give a customer a segment, as numeric
arrays: the features it reads, the scaler's means and scales, the reducer as dense
layers (PCA is one linear layer; the autoencoder's encoder is its dense layers; ``none``
has none), and the centroids in the reduced space, row ``i`` being ``segment_id`` ``i + 1``.
The registry (:mod:`segmentation.registry`) stores exactly these arrays, so a stored
version scores new customers without refitting, and with the same code as the build that
fitted it: a refitting build also scores every customer through :meth:`SegmentModel.assign`.

Segment ids. The first version numbers its segments by the ordering rule of
:func:`segmentation.pipeline.segment_numbering` (train size, largest first). A later
version with the same number of segments takes the ids of the previous version: its
centroids are matched to the previous version's in the scaled feature space (both
standardised with the new version's scaler, on the features both use) by the assignment
of minimum total distance (Hungarian method), so the same behaviour keeps the same id.
When the number of segments changes, the ordering rule numbers them afresh, and the
build output says so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline

from segmentation.log import logger

#: Rows scored at a time: bounds the memory of the distance computation.
SCORING_CHUNK_ROWS = 262_144
#: Scoring more rows than this logs a progress line each time this many are done.
PROGRESS_ROWS = 4 * SCORING_CHUNK_ROWS


@dataclass(frozen=True)
class DenseLayer:
    """``activation(values @ kernel + bias)``; activation is ``linear`` or ``relu``."""

    kernel: np.ndarray
    bias: np.ndarray
    activation: str = "linear"

    def __call__(self, values: np.ndarray) -> np.ndarray:
        values = values @ self.kernel + self.bias
        return np.maximum(values, 0.0) if self.activation == "relu" else values


@dataclass(frozen=True)
class SegmentModel:
    """A fitted scaler, reducer and centroids, as arrays (see the module docstring)."""

    features: tuple[str, ...]
    scaler_mean: np.ndarray
    scaler_scale: np.ndarray
    reducer: str
    layers: tuple[DenseLayer, ...]
    #: k x d centroids in the reduced space; row i is segment_id i + 1.
    centroids: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))

    @property
    def n_segments(self) -> int:
        return int(self.centroids.shape[0])

    def scale(self, matrix: np.ndarray) -> np.ndarray:
        """Standardise raw feature values (columns in the order of ``features``)."""
        return (matrix - self.scaler_mean) / self.scaler_scale

    def reduce_scaled(self, scaled: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            scaled = layer(scaled)
        return scaled

    def reduce(self, matrix: np.ndarray) -> np.ndarray:
        """Reduced coordinates of raw feature values (columns in the order of ``features``)."""
        return self.reduce_scaled(self.scale(matrix))

    def assign(self, reduced: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest centroid of every row: ``segment_id`` (1..k), the distance to it, and
        the confidence ``1 - nearest / second-nearest distance`` (0 on the boundary
        between two segments, 1 at the centroid or when there is one segment).
        Computed in chunks of :data:`SCORING_CHUNK_ROWS` rows."""
        n_rows = len(reduced)
        segment_ids = np.empty(n_rows, dtype=np.int32)
        nearest = np.empty(n_rows, dtype=np.float64)
        confidence = np.empty(n_rows, dtype=np.float64)
        for start in range(0, n_rows, SCORING_CHUNK_ROWS):
            chunk = reduced[start : start + SCORING_CHUNK_ROWS]
            distances = np.sqrt(((chunk[:, None, :] - self.centroids[None, :, :]) ** 2).sum(axis=2))
            order = np.argsort(distances, axis=1, kind="stable")
            rows = np.arange(len(chunk))
            first = distances[rows, order[:, 0]]
            segment_ids[start : start + len(chunk)] = order[:, 0] + 1
            nearest[start : start + len(chunk)] = first
            if self.n_segments < 2:
                confidence[start : start + len(chunk)] = 1.0
            else:
                second = distances[rows, order[:, 1]]
                with np.errstate(invalid="ignore", divide="ignore"):
                    confidence[start : start + len(chunk)] = np.where(second > 0, 1.0 - first / second, 0.0)
            done = start + len(chunk)
            if n_rows > PROGRESS_ROWS and (done % PROGRESS_ROWS == 0 or done == n_rows):
                logger.info(f"assigning customers to segments: {done:,} of {n_rows:,}")
        return segment_ids, nearest, confidence

    def with_centroids(self, centroids: np.ndarray) -> SegmentModel:
        return SegmentModel(self.features, self.scaler_mean, self.scaler_scale, self.reducer, self.layers, centroids)


def model_from_reduction(reduction: Pipeline, features: list[str], reducer: str) -> SegmentModel:
    """The arrays of a fitted ``StandardScaler -> reducer`` pipeline (no centroids yet)."""
    scaler = reduction.named_steps["scale"]
    return SegmentModel(
        features=tuple(features),
        scaler_mean=np.asarray(scaler.mean_, dtype=np.float64),
        scaler_scale=np.asarray(scaler.scale_, dtype=np.float64),
        reducer=reducer,
        layers=reducer_layers(reduction.named_steps["reduce"], reducer),
    )


def reducer_layers(step: object, reducer: str) -> tuple[DenseLayer, ...]:
    """The dense layers of a fitted reducer (scikit-learn PCA, the autoencoder, or none)."""
    if reducer == "pca":
        return (DenseLayer(step.components_.T.copy(), -step.mean_ @ step.components_.T),)
    if reducer == "autoencoder":
        last = len(step.encoder_layers_) - 1
        return tuple(
            DenseLayer(kernel, bias, "linear" if position == last else "relu")
            for position, (kernel, bias) in enumerate(step.encoder_layers_)
        )
    return ()


def fit_kmeans(reduced_train: np.ndarray, n_segments: int, n_init: int, random_seed: int) -> np.ndarray:
    """k-means centroids (k-means' own label order) fitted on the reduced train rows."""
    return KMeans(n_clusters=n_segments, n_init=n_init, random_state=random_seed).fit(reduced_train).cluster_centers_


def segment_profiles(scaled: np.ndarray, labels: np.ndarray, n_segments: int) -> np.ndarray:
    """k x features: the mean scaled feature values of each label's rows (NaN when empty)."""
    sums = np.zeros((n_segments, scaled.shape[1]))
    np.add.at(sums, labels, scaled)
    counts = np.bincount(labels, minlength=n_segments)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


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
    old_scaled = (previous.centroids_real[:, old_columns] - model.scaler_mean[new_columns]) / model.scaler_scale[
        new_columns
    ]
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


def fingerprint(frame: pd.DataFrame) -> str:
    """A hash of the rows of ``frame`` (ids and values, in order): two fits saw the same
    training data when their fingerprints and row counts are equal."""
    row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(row_hashes.tobytes()).hexdigest()
