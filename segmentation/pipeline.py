"""Scale -> reduce -> k-means: the shared steps of fitting and scoring.

The segment model runs as dbt Python models, each a call into the package:

1. ``segmentation_models`` (:func:`segmentation.registry.fit_version`) fits
   ``StandardScaler -> reducer`` (PCA, autoencoder or none; see
   :mod:`segmentation.reducers`) on the train split, runs the elbow method
   (:mod:`segmentation.elbow`) to pick k, fits k-means, numbers and names the segments,
   and stores the result as a new model version (with var ``refit: false`` it stores
   nothing);
2. ``customer_features_reduced`` reduces every customer with the version in use;
3. ``customer_segments`` assigns every customer to the nearest centroid of that version.

Steps 2 and 3 run in the database, as SQL rendered from the version's arrays
(:mod:`segmentation.scoring.sql`); :func:`reduce_customers` and
:func:`segment_customers` are the same computation with numpy, the reference the SQL is
tested against.

Segment numbering rule of a first version: k-means labels are arbitrary, so segments are
numbered ``1..k`` by the number of train customers in them, largest first; ties (rare)
are broken by the centroid coordinates in the reduced space, smallest first. Later
versions keep the ids of the previous one (see :mod:`segmentation.segment_model`).

Every fit depends on the order of its input rows (k-means++ and the autoencoder sample
them), so the models read their inputs sorted by ``customer_id``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.columns import CLUSTERING_FEATURES
from segmentation.log import logger
from segmentation.segment_model import SegmentModel

#: k-means restarts of the segment model; the best of them (lowest inertia) is kept.
N_INIT = 10
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
        pa.field("split", pa.string(), nullable=False),
    ]
)


class SegmentationError(ValueError):
    """The data cannot be segmented as asked; the message says why and what to do."""


def feature_matrix(frame: pd.DataFrame, features: Sequence[str] = CLUSTERING_FEATURES) -> np.ndarray:
    """The clustering features of ``frame`` as a float64 matrix; refuses missing values."""
    check_feature_columns(list(frame.columns), features)
    matrix = frame[list(features)].to_numpy(dtype=np.float64)
    check_finite_counts(dict(zip(features, (~np.isfinite(matrix)).sum(axis=0), strict=True)))
    return matrix


def check_feature_columns(columns: Sequence[str], features: Sequence[str] = CLUSTERING_FEATURES) -> None:
    """Refuse a feature table that lacks some of ``features``."""
    absent = [name for name in features if name not in columns]
    if absent:
        raise SegmentationError(
            f"the feature table lacks the clustering features {absent}; "
            f"columns found: {list(columns)}. Rebuild int_customer_features_engineered."
        )


def check_finite_counts(not_finite: dict[str, int]) -> None:
    """Refuse features with missing or infinite values (``not_finite[name]`` rows each)."""
    counts = {name: int(n) for name, n in not_finite.items() if n}
    if counts:
        raise SegmentationError(
            f"clustering features have missing or infinite values {counts}: "
            "int_customers_cleaned should have imputed them; check its rules against this data."
        )


def component_columns(frame: pd.DataFrame) -> list[str]:
    """The reduced coordinate columns of ``frame``, in component order."""
    names = [name for name in frame.columns if name.startswith(COMPONENT_PREFIX)]
    return sorted(names, key=lambda name: int(name[len(COMPONENT_PREFIX) :]))


def train_mask(frame: pd.DataFrame) -> np.ndarray:
    return frame["split"].to_numpy() == "train"


def check_fit_size(n_segments: int, n_train: int) -> None:
    """Stop early, with the counts, when the train split is too small for k segments."""
    if n_train < n_segments:
        raise SegmentationError(
            f"only {n_train} customers in the train split, fewer than n_segments={n_segments}: "
            "load more customers or ask for fewer segments."
        )


def varying_features(train: np.ndarray, names: Sequence[str] = CLUSTERING_FEATURES) -> np.ndarray:
    """Which features vary on the train rows. A constant feature (for example one made
    from a column that is empty for every customer) says nothing about behaviour: it is
    left out of clustering, with a warning in the build output."""
    return varying_by_range(np.ptp(train, axis=0) if len(train) else None, names)


def varying_by_range(ranges: np.ndarray | None, names: Sequence[str] = CLUSTERING_FEATURES) -> np.ndarray:
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


def usable_feature_matrix(features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The clustering features that vary on the train split, for every row of
    ``features``; the train mask; and the names of the features kept."""
    matrix = feature_matrix(features)
    is_train = train_mask(features)
    varies = varying_features(matrix[is_train])
    names = [name for name, keep in zip(CLUSTERING_FEATURES, varies, strict=True) if keep]
    return (matrix if varies.all() else matrix[:, varies]), is_train, names


def _text_column(values: pd.Series) -> pa.Array:
    """A text column as Arrow; pandas' Arrow-backed strings pass without a copy to Python
    objects."""
    return pa.array(values).cast(pa.string())


def reduce_customers(features: pd.DataFrame, model: SegmentModel | None) -> pa.Table:
    """Every customer's reduced coordinates under ``model``: the table ``customer_id,
    split, component_1..component_d`` (one row per input row, same order). No input rows
    (``dbt build --empty``) or no model give an empty table."""
    if features.empty or model is None:
        return pa.schema(
            [("customer_id", pa.string()), ("split", pa.string()), (f"{COMPONENT_PREFIX}1", pa.float64())]
        ).empty_table()
    reduced = model.reduce(feature_matrix(features, model.features))
    columns = {"customer_id": _text_column(features["customer_id"]), "split": _text_column(features["split"])}
    columns.update({f"{COMPONENT_PREFIX}{i + 1}": reduced[:, i] for i in range(reduced.shape[1])})
    return pa.table(columns)


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


def segment_customers(
    reduced: pd.DataFrame, model: SegmentModel | None, model_version: int, names: dict[int, str]
) -> pa.Table:
    """Assign every customer of ``reduced`` (``customer_id``, ``split`` and the component
    columns) to the nearest centroid of ``model``; :data:`SEGMENT_SCHEMA`, one row per
    input row, same order."""
    if reduced.empty or model is None:
        return SEGMENT_SCHEMA.empty_table()
    values = reduced[component_columns(reduced)].to_numpy(dtype=np.float64)
    if values.shape[1] != model.centroids.shape[1]:
        raise SegmentationError(
            f"customer_features_reduced has {values.shape[1]} components but model version {model_version} "
            f"has {model.centroids.shape[1]}: rebuild both with the same version (dbt build)."
        )
    segment_ids, distances, confidence = model.assign(values)
    logger.info(f"model version {model_version}: {len(values):,} customers assigned to {model.n_segments} segments")
    return pa.table(
        {
            "customer_id": _text_column(reduced["customer_id"]),
            "segment_id": segment_ids,
            "segment_name": pa.array([names[segment] for segment in range(1, model.n_segments + 1)]).take(
                pa.array(segment_ids - 1)
            ),
            "model_version": np.full(len(values), model_version, dtype=np.int32),
            "distance_to_centroid": distances,
            "confidence": confidence,
            "split": _text_column(reduced["split"]),
        },
        schema=SEGMENT_SCHEMA,
    )


def selected_n_segments(elbow: pd.DataFrame) -> int:
    """The k marked ``is_selected`` in the elbow table (0 for an empty table, as in
    ``dbt build --empty``)."""
    if elbow.empty:
        return 0
    selected = elbow.loc[elbow["is_selected"], "k"]
    if len(selected) != 1:
        raise SegmentationError(f"segment_elbow must mark exactly one selected k, found {len(selected)}")
    return int(selected.iloc[0])
