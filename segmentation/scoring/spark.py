"""Scoring on Spark: the rendered SQL of a stored version run by Spark SQL.

On Databricks (dbt-spark or dbt-databricks) ``customer_features_reduced`` and
``customer_segments`` receive a PySpark DataFrame. :func:`reduce_frame` and
:func:`segment_frame` register it as a temporary view and run the same SQL as on DuckDB
(:mod:`segmentation.scoring.sql`: plain arithmetic both engines run unchanged), so every
customer is scored on the executors and a stored version scores identically on both
engines. The MLlib fit is :mod:`segmentation.fit.spark`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from segmentation.scoring.model import (
    SegmentModel,
)
from segmentation.scoring.sql import reduced_select, segments_select


def _rendered_sql(frame: Any, render: Callable[[str], str]) -> Any:
    """The Spark DataFrame of the SQL ``render(view)`` gives over ``frame`` registered as
    the temporary view ``view`` (a fresh name; Spark analyses the query at once, so the
    DataFrame keeps its plan whatever happens to the view later)."""
    view = f"segmentation_scoring_{uuid.uuid4().hex}"
    frame.createOrReplaceTempView(view)
    return frame.sparkSession.sql(render(view))


def reduce_frame(features: Any, model: SegmentModel) -> Any:
    """``customer_features_reduced`` on Spark: ``customer_id, split, component_1..d`` of
    every row of ``features``, computed on the executors by the SQL rendered from the
    version's arrays (:func:`segmentation.scoring.sql.reduced_select`, as on DuckDB)."""
    return _rendered_sql(features, lambda view: reduced_select(model, view, passthrough=["split"]))


def segment_frame(reduced: Any, model: SegmentModel, model_version: int, names: dict[int, str]) -> Any:
    """``customer_segments`` on Spark: every row of ``reduced`` assigned to the nearest
    centroid on the executors by the rendered SQL
    (:func:`segmentation.scoring.sql.segments_select`; the columns of :data:`SEGMENT_SCHEMA`)."""
    return _rendered_sql(
        reduced, lambda view: segments_select(model, view, model_version, names, passthrough=["split"])
    )
