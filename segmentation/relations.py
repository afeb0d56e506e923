"""Data access of the Python models: a dbt relation in, Arrow or pandas out.

Keeping this in one place means that another engine (a Spark DataFrame from
``dbt.ref()`` on Databricks) needs a branch here, not in the ML code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from segmentation.columns import CLUSTERING_FEATURES


def relation_to_arrow(relation: Any, columns: Sequence[str] | None = None, order_by: str | None = None) -> pa.Table:
    """Read a DuckDB relation (what ``dbt.ref()`` returns on dbt-duckdb) as an Arrow table.

    ``order_by`` names a column to sort by. A table's scan order is not guaranteed (it can
    change with the number of threads), and k-means' result depends on the order of its
    input rows, so models that fit read in a fixed order.
    """
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
