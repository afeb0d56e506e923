"""The engine interface: what the fit, the scoring and the evaluation ask of a database.

Every procedure of the package (the fit: check, summary, seeded sample, label statistics,
split quality; the per-customer tables; the evaluation) is written once against
:class:`Engine`, a relation of customers on one database. An engine implements a few
primitives: run a query and collect its small result (:meth:`Engine.frame`), a lazy
relation of a query (:meth:`Engine.relation`: the table a dbt Python model returns, which
the database materialises without the rows entering Python), an engine over a derived
query (:meth:`Engine.over`), an Arrow table as a result (:meth:`Engine.result`), and four
pieces of dialect (a seeded hash of ``customer_id``, a hash of a whole row, a not-finite
test, a quantile). Everything else is SQL written here, once, and run unchanged by every
engine: the portable subset DuckDB and Spark SQL share.

**Seeded samples** mean the same on every engine: the ``size`` rows with the smallest
seeded hash of ``customer_id`` (ties by ``customer_id``), exactly ``min(size, rows)`` of
them, whatever the number of threads, partitions or executors, sorted by ``customer_id``
(k-means and the autoencoder depend on the order of their rows). The hash function is
each engine's own, so two engines pick different customers for the same seed (below the
sample size both take every row). The top-n sees only the rows whose hash, as a share of
its range, is below ``(1.25 size + 100) / rows`` (:mod:`segmentation.sampling`, which the
dbt macros' samples share): about a quarter more rows than it keeps (about 115 standard
deviations above ``size`` for 200,000 of a million rows), so the same rows as a top-n
over everyone, which at 10 million rows under a 1 GB memory limit took a minute of heap
and spill instead of a second.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

import segmentation.sampling as sampling

#: The splits of the engineered features, in the order samples list them.
SPLITS: tuple[str, ...] = ("test", "train")


@dataclass(frozen=True)
class FeatureSummary:
    """One scan of the features: split sizes, each feature's range on the train split
    (None without train rows), a fingerprint of the train rows, and per feature how many
    rows (of every split) hold a missing or infinite value."""

    train_customer_count: int
    test_customer_count: int
    train_ranges: np.ndarray | None
    train_fingerprint: str
    not_finite: dict[str, int]


class Engine(ABC):
    """A relation of customers on one database: ``source`` is SQL usable after ``from``
    (a table or view name, or a parenthesised query)."""

    source: str

    # -- primitives: each engine implements these -------------------------------------

    @abstractmethod
    def frame(self, query: str) -> pd.DataFrame:
        """Run ``query`` and collect its (small) result as pandas."""

    @abstractmethod
    def relation(self, query: str) -> Any:
        """``query`` as the engine's lazy relation: what a dbt Python model returns."""

    @abstractmethod
    def over(self, query: str) -> Engine:
        """An engine of the same database over the rows of ``query``."""

    @abstractmethod
    def result(self, table: pa.Table) -> Any:
        """An Arrow table as what a dbt Python model on this engine returns."""

    @abstractmethod
    def arrow(self, order_by: str | None = None) -> pa.Table:
        """Every row of the relation as Arrow (small relations only: the registry, the
        elbow curve, lookups), sorted by ``order_by`` when given."""

    @abstractmethod
    def seeded_hash(self, seed: int) -> str:
        """An expression: a hash of ``customer_id`` and ``seed`` (orders a seeded sample)."""

    @abstractmethod
    def seeded_uniform(self, seed: int) -> str:
        """An expression: :meth:`seeded_hash` as a share of its range, in [0, 1)."""

    @abstractmethod
    def row_hash(self, columns: Sequence[str]) -> str:
        """An expression: a hash of the row's ``columns``, that ``sum`` can add up exactly."""

    @abstractmethod
    def is_not_finite(self, column: str) -> str:
        """A condition: ``column`` is null, NaN or infinite."""

    @abstractmethod
    def quantile(self, expression: str, share: float) -> str:
        """An aggregate: the ``share`` quantile of ``expression``, linear interpolation."""

    # -- written once, run by every engine --------------------------------------------

    def columns(self) -> list[str]:
        return list(self.relation(f"select * from {self.source} as features limit 0").columns)

    def is_empty(self) -> bool:
        return self.frame(f"select 1 as found from {self.source} as features limit 1").empty

    def not_finite_counts(self, features: Sequence[str]) -> dict[str, int]:
        """Per feature, how many rows hold a missing or infinite value."""
        counts = ", ".join(f"count(*) filter (where {self.is_not_finite(name)}) as {name}" for name in features)
        row = self.frame(f"select {counts} from {self.source} as features").iloc[0]
        return {name: int(row[name]) for name in features}

    def summary(self, features: Sequence[str]) -> FeatureSummary:
        """:class:`FeatureSummary` in one scan (the fit's checks and sizes: one pass over
        every customer, not one per question)."""
        ranges = ", ".join(
            f"max({name}) filter (where split = 'train') - min({name}) filter (where split = 'train') as {name}"
            for name in features
        )
        not_finite = ", ".join(
            f"count(*) filter (where {self.is_not_finite(name)}) as not_finite_{position}"
            for position, name in enumerate(features)
        )
        row = self.frame(
            "select count(*) filter (where split = 'train') as train_rows, "
            "count(*) filter (where split = 'test') as test_rows, "
            f"cast(sum({self.row_hash(['customer_id', *features])}) filter (where split = 'train') as string) "
            f"as train_hash_sum, {ranges}, {not_finite} from {self.source} as features"
        ).iloc[0]
        n_train, n_test = int(row["train_rows"]), int(row["test_rows"])
        ranges_found = row[list(features)].to_numpy(dtype=np.float64) if n_train else None
        hash_sum = None if pd.isna(row["train_hash_sum"]) else row["train_hash_sum"]
        fingerprint = hashlib.sha256(f"{hash_sum}:{n_train}".encode()).hexdigest()
        counts = {name: int(row[f"not_finite_{position}"]) for position, name in enumerate(features)}
        return FeatureSummary(n_train, n_test, ranges_found, fingerprint, counts)

    def _top_by_seed(self, selected: str, size: int, seed: int, where: str | None) -> str:
        """The ``size`` rows with the smallest seeded hash (ties by ``customer_id``),
        among the few above it that pass the prefilter (see the module docstring)."""
        condition = f"where {where} " if where else ""
        rows = f"(select count(*) from {self.source} as counted {condition})"
        prefilter = f"{self.seeded_uniform(seed)} < {sampling.prefilter_bound(size, rows)}"
        return (
            f"select {selected} from {self.source} as features "
            f"where {f'{where} and ' if where else ''}{prefilter} "
            f"order by {self.seeded_hash(seed)}, customer_id limit {int(size)}"
        )

    def sample(self, columns: Sequence[str], size: int, seed: int, split: str | None = None) -> pd.DataFrame:
        """A seeded sample of at most ``size`` rows (of one ``split`` when given), sorted
        by ``customer_id`` (see the module docstring)."""
        selected = ", ".join(["customer_id", *columns])
        where = f"split = '{_split(split)}'" if split else None
        # Only the columns asked for go through the top-n (a third faster at 10M rows).
        return self.frame(
            f"select {selected} from ({self._top_by_seed(selected, size, seed, where)}) as sampled order by customer_id"
        )

    def split_samples(self, columns: Sequence[str], size: int, seed: int) -> pd.DataFrame:
        """A seeded sample of at most ``size`` rows of each split (column ``split``
        included), sorted by split then ``customer_id``: one top-n per split (a bounded
        heap each), not a window over every row."""
        selected = ", ".join(["customer_id", "split", *columns])
        per_split = " union all ".join(
            f"({self._top_by_seed(selected, size, seed, f'split = {_split(split)!r}')})" for split in SPLITS
        )
        return self.frame(f"select * from ({per_split}) as sampled order by split, customer_id")


def _split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; the splits are {list(SPLITS)}")
    return split
