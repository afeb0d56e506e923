"""The DuckDB engine: dbt-duckdb's Python models, and pandas frames in tests.

In a dbt-duckdb Python model ``dbt.ref()`` returns a DuckDB relation on the model's
``session`` (a DuckDB connection). The engine keeps the relation's SQL as its source, so
every query of :mod:`segmentation.engines.protocol` runs inside DuckDB
(multi-threaded, spilling to disk), and a relation it returns is materialised by
dbt-duckdb with ``create table as select``: no customer enters Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

import segmentation.sampling as sampling
from segmentation.engines.protocol import Engine


@dataclass(frozen=True)
class DuckDBEngine(Engine):
    """``source`` (SQL usable after ``from``) on the DuckDB ``connection``."""

    connection: Any
    source: str

    def frame(self, query: str) -> pd.DataFrame:
        return self.connection.sql(query).df()

    def relation(self, query: str) -> Any:
        return self.connection.sql(query)

    def over(self, query: str) -> DuckDBEngine:
        return DuckDBEngine(self.connection, f"({query})")

    def result(self, table: pa.Table) -> pa.Table:
        return table  # dbt-duckdb writes an Arrow table as it is (about twice as fast as pandas)

    def arrow(self, order_by: str | None = None) -> pa.Table:
        order = f" order by {order_by}" if order_by else ""
        return self.connection.sql(f"select * from {self.source} as relation{order}").to_arrow_table()

    def seeded_hash(self, seed: int) -> str:
        return sampling.seeded_hash("duckdb", "customer_id", seed)

    def seeded_uniform(self, seed: int) -> str:
        return sampling.seeded_uniform("duckdb", "customer_id", seed)

    def row_hash(self, columns: Sequence[str]) -> str:
        return f"hash({', '.join(columns)})"

    def is_not_finite(self, column: str) -> str:
        return f"{column} is null or not isfinite({column})"

    def quantile(self, expression: str, share: float) -> str:
        return f"quantile_cont({expression}, {share})"


def duckdb_engine(relation: Any, connection: Any) -> DuckDBEngine:
    """The engine of a DuckDB relation (what ``dbt.ref()`` returns on dbt-duckdb) on
    ``connection``, the dbt Python model's session."""
    return DuckDBEngine(connection, f"({relation.sql_query()})")


def pandas_engine(frame: pd.DataFrame) -> DuckDBEngine:
    """An engine over a pandas DataFrame, registered in an in-memory DuckDB database (the
    connection closes when the engine is no longer referenced)."""
    import duckdb

    connection = duckdb.connect()
    connection.register("features_frame", frame)
    return DuckDBEngine(connection, "features_frame")
