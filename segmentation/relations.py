"""Data access of the Python models: a dbt relation in, Arrow or pandas out, and the
model's result back in the engine's type.

A relation is what ``dbt.ref()`` returns: a DuckDB relation on dbt-duckdb, a PySpark
DataFrame on Spark (Databricks). Spark DataFrames are collected to the driver as Arrow
here; the models that read every customer keep them distributed instead
(:mod:`segmentation.fit.spark`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from segmentation.columns import CLUSTERING_FEATURES

_ARROW_TO_SPARK = {pa.string(): "string", pa.int32(): "int", pa.int64(): "bigint", pa.float64(): "double"}


def is_spark_frame(value: Any) -> bool:
    """Whether ``value`` is a PySpark DataFrame (without importing PySpark)."""
    return type(value).__module__.startswith("pyspark.sql")


def spark_schema(schema: pa.Schema) -> str:
    """A Spark DDL schema string with the columns and types of an Arrow schema."""
    return ", ".join(f"`{field.name}` {_ARROW_TO_SPARK[field.type]}" for field in schema)


def spark_to_arrow(frame: Any, columns: Sequence[str] | None = None, order_by: str | None = None) -> pa.Table:
    """Collect a Spark DataFrame to the driver as an Arrow table."""
    if columns is not None:
        frame = frame.select(*columns)
    if order_by is not None:
        frame = frame.orderBy(order_by)
    return frame.toArrow()


def to_spark(session: Any, table: pa.Table) -> Any:
    """An Arrow table (a model's result) as a Spark DataFrame of ``session``."""
    return session.createDataFrame(table)


def relation_to_arrow(relation: Any, columns: Sequence[str] | None = None, order_by: str | None = None) -> pa.Table:
    """Read a DuckDB relation (what ``dbt.ref()`` returns on dbt-duckdb), or a Spark
    DataFrame, as an Arrow table.

    ``order_by`` names a column to sort by. A table's scan order is not guaranteed (it can
    change with the number of threads), and k-means' result depends on the order of its
    input rows, so models that fit read in a fixed order.
    """
    if is_spark_frame(relation):
        return spark_to_arrow(relation, columns, order_by)
    if columns is not None:
        relation = relation.select(*columns)
    if order_by is not None:
        relation = relation.order(order_by)
    if hasattr(relation, "to_arrow_table"):  # duckdb >= 1.4
        return relation.to_arrow_table()
    result = relation.arrow()
    return result.read_all() if isinstance(result, pa.RecordBatchReader) else result


def relation_to_frame(relation: Any, columns: Sequence[str] | None = None, order_by: str | None = None) -> pd.DataFrame:
    """Read a DuckDB relation as a pandas DataFrame (through Arrow, not row by row)."""
    return relation_to_arrow(relation, columns, order_by).to_pandas()


def frame_to_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """A model's result as an Arrow table with exactly ``schema``'s columns and types.

    Writing typed Arrow (rather than pandas) fixes the warehouse column types, also for
    an empty result (``dbt build --empty``), where pandas would have no types to give.
    """
    if frame.empty:
        return schema.empty_table()
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


def read_clustering_features(relation: Any, ordered: bool = True) -> pd.DataFrame:
    """``customer_id``, ``split`` and the clustering features of a features relation
    (``int_customer_features_engineered``), sorted by ``customer_id`` unless the caller
    works row by row (scoring), where the order cannot change a result."""
    return relation_to_frame(
        relation, columns=["customer_id", "split", *CLUSTERING_FEATURES], order_by="customer_id" if ordered else None
    )


def read_segmented_customers(reduced: Any, segments: Any) -> pd.DataFrame:
    """Every customer's reduced coordinates (``customer_features_reduced``) with its
    ``segment_id`` and ``model_version`` (``customer_segments``), joined by the engine
    and sorted by ``customer_id``."""
    joined = reduced.join(segments.select("customer_id", "segment_id", "model_version"), "customer_id")
    return relation_to_frame(joined, order_by="customer_id")


def model_result(session: Any, result: pa.Table | Any) -> Any:
    """What a Python model returns: an Arrow table as it is on DuckDB, as a Spark
    DataFrame on Spark (dbt-spark takes Spark or pandas DataFrames only); a result
    that is already a Spark DataFrame passes as it is."""
    if isinstance(result, pa.Table) and type(session).__module__.startswith("pyspark."):
        return to_spark(session, result)
    return result
