"""The databases the package runs on, behind one interface (:class:`Engine`).

:func:`engine_for` picks the engine from what ``dbt.ref()`` returned: a DuckDB relation
(dbt-duckdb), a PySpark DataFrame (dbt-spark, Databricks), or, in tests and scripts, a
pandas DataFrame (an in-memory DuckDB). The procedures of :mod:`segmentation.fit`,
:mod:`segmentation.scoring` and :mod:`segmentation.evaluation` take an engine and never
ask which one it is. To add an engine: a module here implementing the primitives of
:class:`~segmentation.engines.protocol.Engine`, and one branch in :func:`engine_for`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from segmentation.engines.duckdb import DuckDBEngine, duckdb_engine, pandas_engine
from segmentation.engines.protocol import SPLITS, Engine, FeatureSummary
from segmentation.engines.spark import is_spark_frame, spark_engine

__all__ = ["SPLITS", "DuckDBEngine", "Engine", "FeatureSummary", "engine_for", "is_spark_frame"]


def engine_for(relation: Any, session: Any = None) -> Engine:
    """The engine of ``relation``: an :class:`Engine` as it is, a PySpark DataFrame, a
    pandas DataFrame, or a DuckDB relation on ``session`` (the dbt Python model's
    connection)."""
    if isinstance(relation, Engine):
        return relation
    if is_spark_frame(relation):
        return spark_engine(relation)
    if isinstance(relation, pd.DataFrame):
        return pandas_engine(relation)
    if session is None:
        raise ValueError("a DuckDB relation needs the connection it belongs to (the Python model's session)")
    return duckdb_engine(relation, session)
