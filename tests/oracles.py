"""Test oracles: the numpy reference scoring that the rendered SQL is checked against.

:func:`reduce_customers` and :func:`segment_customers` compute with numpy
(:meth:`SegmentModel.reduce`, :meth:`SegmentModel.assign`) what the builds compute in the
database with the SQL of :mod:`segmentation.scoring.sql`; the parity tests ask both to
agree to 1e-9. Test code only: the product never scores whole tables in Python.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.log import logger
from segmentation.scoring.model import (
    COMPONENT_PREFIX,
    SEGMENT_SCHEMA,
    SegmentationError,
    SegmentModel,
    component_columns,
    feature_matrix,
)


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
    runner_up, margin = model.runner_up(values, segment_ids)
    normalized = model.normalized_distance(segment_ids, distances)
    atypical = normalized > model.atypical_threshold if model.is_calibrated else None
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
            "runner_up_segment_id": pa.array(runner_up, mask=runner_up == 0),
            "assignment_margin": pa.array(margin, from_pandas=True),
            "normalized_distance": pa.array(normalized, from_pandas=True),
            "is_atypical": pa.nulls(len(values), pa.bool_()) if atypical is None else pa.array(atypical),
            "split": _text_column(reduced["split"]),
        },
        schema=SEGMENT_SCHEMA,
    )
