"""The engineered features as DuckDB reads them: checks, counts and seeded samples.

The fit and the diagnostics never pull every customer into Python. They ask DuckDB for
whole-table aggregates (one scan: counts per split, missing values, ranges, a
fingerprint) and for seeded samples, drawn by a hash of ``customer_id`` and the seed
(``order by hash(customer_id, seed) limit n``: the same customers for the same data and
seed, whatever the number of threads or the order of the rows), then sorted by
``customer_id`` because k-means and the autoencoder depend on the order of their rows.
Below the sample size a sample is every row, in ``customer_id`` order.

A :class:`FeatureTable` wraps a DuckDB connection and the SQL of the features relation
(``int_customer_features_engineered`` in a dbt Python model, or a pandas DataFrame
registered in an in-memory database by :func:`feature_table`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from segmentation.columns import CLUSTERING_FEATURES
from segmentation.scoring.model import check_feature_columns, check_finite_counts


@dataclass(frozen=True)
class FeatureSummary:
    """One scan of the features: split sizes, each feature's range on the train split
    (None without train rows) and a fingerprint of the train rows."""

    train_customer_count: int
    test_customer_count: int
    train_ranges: np.ndarray | None
    train_fingerprint: str


@dataclass(frozen=True)
class FeatureTable:
    """The features relation: ``source`` is SQL usable after ``from`` (a table name or a
    parenthesised query) on ``connection``."""

    connection: Any
    source: str

    def sql(self, query: str) -> duckdb.DuckDBPyRelation:
        return self.connection.sql(query)

    def frame(self, query: str) -> pd.DataFrame:
        return self.connection.sql(query).df()

    def columns(self) -> list[str]:
        return list(self.connection.sql(f"select * from {self.source} as features limit 0").columns)

    def is_empty(self) -> bool:
        return self.connection.sql(f"select 1 from {self.source} as features limit 1").fetchall() == []

    def check(self, features: Sequence[str] = CLUSTERING_FEATURES) -> None:
        """Refuse absent feature columns, and missing or infinite values (with counts)."""
        check_feature_columns(self.columns(), features)
        counts = ", ".join(
            f"count(*) filter (where {name} is null or not isfinite({name})) as {name}" for name in features
        )
        row = self.sql(f"select {counts} from {self.source} as features").fetchall()[0]
        check_finite_counts(dict(zip(features, row, strict=True)))

    def summary(self, features: Sequence[str] = CLUSTERING_FEATURES) -> FeatureSummary:
        """:class:`FeatureSummary` in one scan."""
        ranges = ", ".join(
            f"max({name}) filter (where split = 'train') - min({name}) filter (where split = 'train') as {name}"
            for name in features
        )
        row = self.sql(
            "select count(*) filter (where split = 'train') as train_rows, "
            "count(*) filter (where split = 'test') as test_rows, "
            f"cast(sum(hash(customer_id, {', '.join(features)})) filter (where split = 'train') as varchar), "
            f"{ranges} from {self.source} as features"
        ).fetchall()[0]
        n_train, n_test, hash_sum = int(row[0]), int(row[1]), row[2]
        ranges_found = np.array(row[3:], dtype=np.float64) if n_train else None
        fingerprint = hashlib.sha256(f"{hash_sum}:{n_train}".encode()).hexdigest()
        return FeatureSummary(n_train, n_test, ranges_found, fingerprint)

    def sample(self, columns: Sequence[str], size: int, seed: int, where: str | None = None) -> pd.DataFrame:
        """A seeded sample of at most ``size`` rows (``where`` filters first), sorted by
        ``customer_id``."""
        condition = f"where {where}" if where else ""
        selected = ", ".join(["customer_id", *columns])
        # Only the columns asked for go through the top-n (a third faster at 10M rows).
        return self.frame(
            f"select {selected} from ("
            f"select {selected} from {self.source} as features {condition} "
            f"order by hash(customer_id, {int(seed)}), customer_id limit {int(size)}"
            ") as sampled order by customer_id"
        )

    def split_samples(self, columns: Sequence[str], size: int, seed: int) -> pd.DataFrame:
        """A seeded sample of at most ``size`` rows of each split (column ``split``
        included), sorted by split then ``customer_id``. One top-n per split (a bounded
        heap each), not a window over every row."""
        selected = ", ".join(["customer_id", "split", *columns])
        per_split = " union all ".join(
            f"(select {selected} from {self.source} as features where split = '{split}' "
            f"order by hash(customer_id, {int(seed)}), customer_id limit {int(size)})"
            for split in ("test", "train")
        )
        return self.frame(f"select * from ({per_split}) as sampled order by split, customer_id")


def relation_source(relation: Any) -> str:
    """A DuckDB relation (what ``dbt.ref()`` returns on dbt-duckdb) as SQL usable after ``from``."""
    return f"({relation.sql_query()})"


@contextmanager
def feature_table(features: pd.DataFrame | str | Any, connection: Any = None) -> Iterator[FeatureTable]:
    """A :class:`FeatureTable` of a DuckDB relation or of SQL usable after ``from`` (on
    ``connection``, the dbt Python model's session), or of a pandas DataFrame
    (registered in an in-memory database)."""
    if isinstance(features, pd.DataFrame):
        with duckdb.connect() as memory:
            memory.register("features_frame", features)
            yield FeatureTable(memory, "features_frame")
        return
    if connection is None:
        raise ValueError("a DuckDB relation needs the connection it belongs to")
    yield FeatureTable(connection, features if isinstance(features, str) else relation_source(features))
