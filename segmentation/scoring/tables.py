"""The per-customer tables of a stored version, on any engine: relations of rendered SQL.

``customer_features_reduced`` and ``customer_segments`` return what these functions
return: a relation of the engine (a DuckDB relation that dbt-duckdb materialises with
``create table as select``, or a Spark DataFrame computed on the executors), so the
customers never enter Python. ``model_scoring_sql`` stores the SQL itself.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from segmentation.engines import Engine
from segmentation.params import SegmentationParams
from segmentation.scoring.explanations import reasons_select
from segmentation.scoring.model import SEGMENT_SCHEMA, SegmentationError, check_features
from segmentation.scoring.registry import load_model, model_in_use, segment_names, segment_profiles, version_row
from segmentation.scoring.sql import (
    COMPONENT_PREFIX,
    INPUT_PLACEHOLDER,
    reduced_select,
    score_template,
    segments_select,
)

#: The columns of customer_features_reduced when there is nothing to reduce (dbt build --empty).
EMPTY_REDUCED_SCHEMA = pa.schema(
    [("customer_id", pa.string()), ("split", pa.string()), (f"{COMPONENT_PREFIX}1", pa.float64())]
)


def reduced_relation(features: Engine, registry: pd.DataFrame, params: SegmentationParams) -> Any:
    """Every customer of ``features`` (``int_customer_features_engineered``) reduced with
    the version in use: ``customer_id``, ``split``, ``component_1..d``. Missing or
    infinite feature values stop the build with the counts."""
    if registry.empty and features.is_empty():  # dbt build --empty: nothing fitted, nothing to reduce
        return features.result(EMPTY_REDUCED_SCHEMA.empty_table())
    _, model = model_in_use(registry, params)
    check_features(features, model.features)
    return features.relation(reduced_select(model, features.source, passthrough=["split"]))


def segments_relation(reduced: Engine, registry: pd.DataFrame, params: SegmentationParams) -> Any:
    """Every customer of ``reduced`` (``customer_features_reduced``) assigned to the
    nearest centroid of the version in use (:data:`SEGMENT_SCHEMA`'s columns)."""
    if registry.empty and reduced.is_empty():  # dbt build --empty
        return reduced.result(SEGMENT_SCHEMA.empty_table())
    return reduced.relation(_segments_select(reduced, registry, params, passthrough=["split"]))


def scored_customers(reduced: Engine, registry: pd.DataFrame, params: SegmentationParams) -> Engine:
    """The rows of ``customer_segments`` with the customers' ``component_1..d``: the same
    SQL over ``reduced`` (the same segment for every customer), instead of a join of the
    two tables (two hash joins of every customer per evaluation model, most of their time
    at 10 million customers). ``reduced`` itself when nothing is stored (``--empty``)."""
    if registry.empty:
        return reduced
    components = [column for column in reduced.columns() if column.startswith(COMPONENT_PREFIX)]
    return reduced.over(_segments_select(reduced, registry, params, passthrough=["split", *components]))


def _segments_select(
    reduced: Engine, registry: pd.DataFrame, params: SegmentationParams, passthrough: list[str]
) -> str:
    version, model = model_in_use(registry, params)
    found = sum(1 for column in reduced.columns() if column.startswith(COMPONENT_PREFIX))
    if found != model.centroids.shape[1]:
        raise SegmentationError(
            f"customer_features_reduced has {found} components but model version {version} "
            f"has {model.centroids.shape[1]}: rebuild both with the same version (dbt build)."
        )
    names = segment_names(registry, version)
    return segments_select(model, reduced.source, version, names, passthrough=passthrough)


SCORING_SQL_SCHEMA = pa.schema(
    [
        pa.field("model_version", pa.int32(), nullable=False),
        pa.field("features", pa.list_(pa.string())),
        pa.field("input_placeholder", pa.string()),
        pa.field("scoring_sql", pa.string()),
        pa.field("explanation_sql", pa.string()),
    ]
)


def explanation_template(registry: pd.DataFrame, version: int, units: dict[str, str]) -> str:
    """The SQL of ``customer_segment_reasons`` for any relation with ``customer_id`` and
    the version's features (left as :data:`~segmentation.scoring.sql.INPUT_PLACEHOLDER`):
    the relation is scored with the version, then explained."""
    model = load_model(registry, version)
    profiles, medians = segment_profiles(version_row(registry, version), model)
    scored = score_template(model, version, segment_names(registry, version))
    joined = (
        f"(select scored.segment_id, scored.runner_up_segment_id, explained.* from (\n{scored}\n) as scored "
        f"inner join {INPUT_PLACEHOLDER} as explained on scored.customer_id = explained.customer_id)"
    )
    return reasons_select(model, profiles, medians, units, joined)


def scoring_sql_table(registry: pd.DataFrame, units: dict[str, str] | None = None) -> pa.Table:
    """One row per stored version: the SQL scoring a relation with it
    (:func:`segmentation.scoring.sql.score_template`) and the SQL explaining its segments
    (:func:`explanation_template`), with the relation left as
    :data:`~segmentation.scoring.sql.INPUT_PLACEHOLDER`; ``units`` are the features' units."""
    rows = [
        {
            "model_version": version,
            "features": list(registry_row["features"]),
            "input_placeholder": INPUT_PLACEHOLDER,
            "scoring_sql": score_template(load_model(registry, version), version, segment_names(registry, version)),
            "explanation_sql": explanation_template(registry, version, units or {}),
        }
        for version, registry_row in (
            (int(row["model_version"]), row) for _, row in registry.sort_values("model_version").iterrows()
        )
    ]
    return pa.Table.from_pylist(rows, schema=SCORING_SQL_SCHEMA)
