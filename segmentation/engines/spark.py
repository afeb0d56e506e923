"""The Spark engine: dbt-spark and Databricks, where ``dbt.ref()`` returns a PySpark DataFrame.

The DataFrame is registered as a temporary view of its session under a fresh name, and
every query of :mod:`segmentation.engines.protocol` runs through ``spark.sql`` on the
executors; only the small results (a summary row, a seeded sample, per-segment
statistics) are collected to the driver, as Arrow. A relation it returns is a Spark
DataFrame that dbt-spark (or :mod:`segmentation.spark_build`) saves as a table. Spark
analyses a query when it is created, so a returned DataFrame keeps its plan whatever
happens to the view later.

PySpark is imported only here, and only when a Spark DataFrame arrives.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

import segmentation.sampling as sampling
from segmentation.engines.protocol import Engine


@dataclass(frozen=True)
class SparkEngine(Engine):
    """The temporary view ``source`` of the Spark ``session``."""

    session: Any
    source: str

    def frame(self, query: str) -> pd.DataFrame:
        return self.session.sql(query).toArrow().to_pandas()

    def relation(self, query: str) -> Any:
        return self.session.sql(query)

    def over(self, query: str) -> SparkEngine:
        return spark_engine(self.session.sql(query))

    def result(self, table: pa.Table) -> Any:
        return self.session.createDataFrame(table)  # dbt-spark takes Spark or pandas DataFrames only

    def arrow(self, order_by: str | None = None) -> pa.Table:
        order = f" order by {order_by}" if order_by else ""
        return self.session.sql(f"select * from {self.source}{order}").toArrow()

    def seeded_hash(self, seed: int) -> str:
        return sampling.seeded_hash("spark", "customer_id", seed)

    def seeded_uniform(self, seed: int) -> str:
        return sampling.seeded_uniform("spark", "customer_id", seed)

    def row_hash(self, columns: Sequence[str]) -> str:
        # A 64-bit hash as an exact decimal: its sum over every row cannot overflow.
        return f"cast(xxhash64({', '.join(columns)}) as decimal(38, 0))"

    def is_not_finite(self, column: str) -> str:
        return f"{column} is null or isnan({column}) or abs({column}) = double('inf')"

    def quantile(self, expression: str, share: float) -> str:
        return f"percentile({expression}, {share})"


def is_spark_frame(value: Any) -> bool:
    """Whether ``value`` is a PySpark DataFrame (without importing PySpark)."""
    return type(value).__module__.startswith("pyspark.sql")


def spark_engine(frame: Any) -> SparkEngine:
    """The engine of a PySpark DataFrame, registered as a fresh temporary view."""
    view = f"segmentation_{uuid.uuid4().hex}"
    frame.createOrReplaceTempView(view)
    return SparkEngine(frame.sparkSession, view)
