"""A fitted segment model as plain numbers, and the numpy reference scoring.

A :class:`SegmentModel` is everything needed to give a customer a segment, as numeric
arrays: the features it reads, the learned shift of each log-transformed feature
(``ln(max(x, 0) + shift)``; NaN for a feature used as it is), the scaler's means and scales, the reducer as dense
layers (PCA is one linear layer; the autoencoder's encoder is its dense layers; ``none``
has none), and the centroids in the reduced space, row ``i`` being ``segment_id`` ``i + 1``.
The registry (:mod:`segmentation.scoring.registry`) stores exactly these arrays, so a
stored version scores new customers without refitting.

Builds score in the database with SQL rendered from these arrays
(:mod:`segmentation.scoring.sql`); :meth:`SegmentModel.reduce` and
:meth:`SegmentModel.assign` are the same computation with numpy, which the fit uses on
its samples (and the tests' reference scoring, ``tests/oracles.py``, on whole tables).
This module also holds what both sides check and return: the columns of
``customer_segments`` (:data:`SEGMENT_SCHEMA`), the feature checks and
:class:`SegmentationError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.engines import Engine
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


def _logged(log_shifts: np.ndarray, width: int) -> np.ndarray:
    """Which of ``width`` columns have a shift (empty ``log_shifts``: none)."""
    return ~np.isnan(log_shifts) if len(log_shifts) else np.zeros(width, dtype=bool)


def log_shifted(matrix: np.ndarray, log_shifts: np.ndarray, zero_values: np.ndarray | None = None) -> np.ndarray:
    """``ln(max(x, 0) + shift)`` of the columns with a shift (``log_shifts[j]`` not NaN);
    the other columns as they are. Where ``zero_values[j]`` is not NaN, a value ``x <= 0``
    of column j becomes ``zero_values[j]`` instead (a zero amount put at the centre of the
    positive amounts' logs). An empty ``log_shifts`` leaves every column as it is."""
    logged = _logged(log_shifts, matrix.shape[1])
    if not logged.any():
        return matrix
    out = np.array(matrix, dtype=np.float64, copy=True)
    out[:, logged] = np.log(np.maximum(out[:, logged], 0.0) + log_shifts[logged])
    centred = _logged(zero_values if zero_values is not None else np.empty(0), matrix.shape[1])
    for column in np.flatnonzero(centred & logged):
        out[np.asarray(matrix[:, column]) <= 0, column] = zero_values[column]
    return out


def real_units(transformed: np.ndarray, log_shifts: np.ndarray) -> np.ndarray:
    """The inverse of :func:`log_shifted`: ``exp(t) - shift`` on the log-transformed
    columns (a segment's mean there becomes a geometric-style mean in real units)."""
    logged = _logged(log_shifts, transformed.shape[-1])
    out = np.array(transformed, dtype=np.float64, copy=True)
    out[..., logged] = np.exp(out[..., logged]) - log_shifts[logged]
    return out


@dataclass(frozen=True)
class SegmentModel:
    """A fitted feature transform, scaler, reducer and centroids, as arrays (see the
    module docstring)."""

    features: tuple[str, ...]
    scaler_mean: np.ndarray
    scaler_scale: np.ndarray
    reducer: str
    layers: tuple[DenseLayer, ...]
    #: k x d centroids in the reduced space; row i is segment_id i + 1.
    centroids: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    #: Per feature, the shift of ``ln(max(x, 0) + shift)``, NaN for a feature used as it
    #: is. Left empty (a version fitted before feature transforms existed), it becomes NaN
    #: for every feature: none transformed.
    log_shifts: np.ndarray = field(default_factory=lambda: np.empty(0))
    #: Per feature, the value a zero (or negative) amount of a log-transformed feature
    #: takes instead of ``ln(shift)``: the mean log of the feature's positive train values
    #: (var feature_transform ``zero_centred_log``); NaN where zeros are not centred. Left
    #: empty (a version stored before it existed), it becomes NaN for every feature.
    zero_values: np.ndarray = field(default_factory=lambda: np.empty(0))
    #: Per segment (row i: segment_id i + 1), the root mean square distance of its train
    #: customers to its centroid: what ``normalized_distance`` divides by. Empty for a
    #: version stored before atypical customers were calibrated.
    segment_radii: np.ndarray = field(default_factory=lambda: np.empty(0))
    #: ``is_atypical`` is ``normalized_distance > atypical_threshold``, the threshold
    #: calibrated on the train split by var contamination; NaN when not calibrated.
    atypical_threshold: float = float("nan")

    def __post_init__(self) -> None:
        if not len(self.log_shifts):
            object.__setattr__(self, "log_shifts", np.full(len(self.features), np.nan))
        if not len(self.zero_values):
            object.__setattr__(self, "zero_values", np.full(len(self.features), np.nan))

    @property
    def is_calibrated(self) -> bool:
        """Whether the version has segment radii and an atypical threshold."""
        return len(self.segment_radii) == self.n_segments > 0 and not np.isnan(self.atypical_threshold)

    @property
    def n_segments(self) -> int:
        return int(self.centroids.shape[0])

    def transform(self, matrix: np.ndarray) -> np.ndarray:
        """Raw feature values (columns in the order of ``features``) with the learned
        feature transform applied: what the scaler standardises."""
        return log_shifted(matrix, self.log_shifts, self.zero_values)

    def scale(self, matrix: np.ndarray) -> np.ndarray:
        """Transform and standardise raw feature values (columns in the order of ``features``)."""
        return (self.transform(matrix) - self.scaler_mean) / self.scaler_scale

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

    def runner_up(self, reduced: np.ndarray, segment_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row, the runner-up segment (the nearest centroid other than ``segment_ids``,
        ties to the lowest id; 0 with a single segment) and the assignment margin, the
        squared distance to the runner-up minus the squared distance to the own centroid
        (NaN with a single segment)."""
        squared = ((reduced[:, None, :] - self.centroids[None, :, :]) ** 2).sum(axis=2)
        rows = np.arange(len(reduced))
        if self.n_segments < 2:
            return np.zeros(len(reduced), dtype=np.int32), np.full(len(reduced), np.nan)
        own = segment_ids - 1
        others = squared.copy()
        others[rows, own] = np.inf
        runner = np.argmin(others, axis=1)
        distances = np.sqrt(squared)
        margin = distances[rows, runner] ** 2 - distances[rows, own] ** 2
        return (runner + 1).astype(np.int32), margin

    def normalized_distance(self, segment_ids: np.ndarray, distances: np.ndarray) -> np.ndarray:
        """Distance to the own centroid over the segment's train radius (NaN when the
        version has no radii, or the segment's radius is 0)."""
        if len(self.segment_radii) != self.n_segments:
            return np.full(len(distances), np.nan)
        radii = self.segment_radii[segment_ids - 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(radii > 0, distances / np.where(radii > 0, radii, 1.0), np.nan)

    def with_centroids(self, centroids: np.ndarray) -> SegmentModel:
        return replace(self, centroids=centroids)


#: Prefix of the reduced coordinate columns: component_1, component_2, ...
COMPONENT_PREFIX = "component_"


SEGMENT_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("segment_id", pa.int32(), nullable=False),
        pa.field("segment_name", pa.string(), nullable=False),
        pa.field("model_version", pa.int32(), nullable=False),
        pa.field("distance_to_centroid", pa.float64(), nullable=False),
        pa.field("confidence", pa.float64(), nullable=False),
        pa.field("runner_up_segment_id", pa.int32()),
        pa.field("assignment_margin", pa.float64()),
        pa.field("normalized_distance", pa.float64()),
        pa.field("is_atypical", pa.bool_()),
        pa.field("split", pa.string(), nullable=False),
    ]
)


class SegmentationError(ValueError):
    """The data cannot be segmented as asked; the message says why and what to do."""


def feature_matrix(frame: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    """The clustering features of ``frame`` as a float64 matrix; refuses missing values."""
    check_feature_columns(list(frame.columns), features)
    matrix = frame[list(features)].to_numpy(dtype=np.float64)
    check_finite_counts(dict(zip(features, (~np.isfinite(matrix)).sum(axis=0), strict=True)))
    return matrix


def check_feature_columns(columns: Sequence[str], features: Sequence[str]) -> None:
    """Refuse a feature table that lacks some of ``features``."""
    absent = [name for name in features if name not in columns]
    if absent:
        raise SegmentationError(
            f"the feature table lacks the clustering features {absent}; "
            f"columns found: {list(columns)}. Rebuild int_customer_features_engineered; when scoring with a "
            "stored version (refit: false) fitted on features the project no longer computes, refit instead "
            "(dbt build --vars '{refit: true}')."
        )


def check_finite_counts(not_finite: dict[str, int]) -> None:
    """Refuse features with missing or infinite values (``not_finite[name]`` rows each)."""
    counts = {name: int(n) for name, n in not_finite.items() if n}
    if counts:
        raise SegmentationError(
            f"clustering features have missing or infinite values {counts}: "
            "int_customers_cleaned should have imputed them; check its rules against this data."
        )


def check_features(features: Engine, names: Sequence[str]) -> None:
    """Refuse an engine's feature relation that lacks some of ``names``, or holds missing
    or infinite values in them (with the counts)."""
    check_feature_columns(features.columns(), names)
    check_finite_counts(features.not_finite_counts(names))


def component_columns(frame: pd.DataFrame) -> list[str]:
    """The reduced coordinate columns of ``frame``, in component order."""
    names = [name for name in frame.columns if name.startswith(COMPONENT_PREFIX)]
    return sorted(names, key=lambda name: int(name[len(COMPONENT_PREFIX) :]))
