"""The seeded sample's SQL, defined once for the Python models and for the dbt macros.

A seeded sample of ``size`` customers is the ``size`` rows with the smallest seeded hash
of ``customer_id`` (ties by ``customer_id``); see :mod:`segmentation.engines.protocol`.
Its top-n looks only at the rows whose hash, as a share of its range (the seeded uniform,
in [0, 1)), is below ``(MARGIN_FACTOR * size + MARGIN_EXTRA) / rows``.

The engines (:mod:`segmentation.engines`) format these templates; dbt's Jinja cannot read
the package, so ``python -m segmentation.vars`` (make generated) writes them into
``macros/seeded_sample.sql`` as the macro ``seeded_sample_spec()``, and the unit tests
fail when that copy is stale.
"""

from __future__ import annotations

#: The prefilter keeps about a quarter more rows than the sample: at 200,000 of a million
#: rows about 115 standard deviations of the kept count above ``size``.
MARGIN_FACTOR = 1.25
MARGIN_EXTRA = 100

#: Per dialect: a 64-bit hash of ``{column}`` and the seed ``{seed}``, and that hash
#: (``{hash}``) as a share of its range, in [0, 1). DuckDB's hash is unsigned; Spark's
#: xxhash64 is signed, so its share is moved from [-1/2, 1/2) to [0, 1).
SEEDED_HASH = {
    "duckdb": "hash({column}, {seed})",
    "spark": "xxhash64({column}, {seed})",
}
SEEDED_UNIFORM = {
    "duckdb": "({hash} / 18446744073709551616.0)",
    "spark": "(cast({hash} as double) / 18446744073709551616.0 + 0.5)",
}


def seeded_hash(dialect: str, column: str, seed: int) -> str:
    """An expression: the seeded hash of ``column`` in ``dialect`` (duckdb or spark)."""
    return SEEDED_HASH[dialect].format(column=column, seed=int(seed))


def seeded_uniform(dialect: str, column: str, seed: int) -> str:
    """An expression: :func:`seeded_hash` as a share of its range, in [0, 1)."""
    return SEEDED_UNIFORM[dialect].format(hash=seeded_hash(dialect, column, seed))


def prefilter_bound(size: int, rows: str) -> str:
    """An expression: the seeded uniform's bound of the prefilter for a sample of ``size``
    out of ``rows`` (SQL: a count or a subquery counting the rows)."""
    return f"({MARGIN_FACTOR} * {int(size)} + {MARGIN_EXTRA}) / {rows}"


def spec() -> dict[str, object]:
    """What the dbt macros need (macros/seeded_sample.sql, ``seeded_sample_spec()``)."""
    return {
        "margin_factor": MARGIN_FACTOR,
        "margin_extra": MARGIN_EXTRA,
        "seeded_hash": SEEDED_HASH,
        "seeded_uniform": SEEDED_UNIFORM,
    }
