"""Drift against the version in use: are today's customers still the ones it was fitted on?

At fit time each version stores, per clustering feature, quantile bins of its train
split and the train share in each (:func:`segmentation.fit.calibration.reference_bins`).
Every build counts today's customers in the same bins, in one scan by the engine, and
compares the two distributions per feature:

- the population stability index, ``PSI = sum (now - ref) ln(now / ref)`` on the
  reference's quantile bins (shares floored at :data:`SHARE_FLOOR` so that an empty bin
  gives a large finite value, not infinity); above var ``drift_psi_threshold`` (0.25 by
  default, the usual "significant shift") the feature is drifted;
- the Jensen-Shannon distance (the square root of the divergence, base 2: 0 for the same
  distribution, 1 for distributions with no bin in common), which BigQuery ML's
  ``ML.VALIDATE_DATA_DRIFT`` uses (threshold 0.3 there).

Quantile bins of the reference, not equal-width bins over both samples: a heavy right
tail then still has ten bins where the customers are, and a shift of the bulk shows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.engines import Engine
from segmentation.log import logger
from segmentation.params import SegmentationParams
from segmentation.scoring.model import check_features
from segmentation.scoring.registry import version_in_use, version_row
from segmentation.scoring.sql import double_literal, identifier

#: Shares below this count as this in the PSI (an empty bin would make it infinite).
SHARE_FLOOR = 1e-4

FEATURE_DRIFT_SCHEMA = pa.schema(
    [
        pa.field("feature", pa.string(), nullable=False),
        pa.field("feature_position", pa.int32(), nullable=False),
        pa.field("psi", pa.float64(), nullable=False),
        pa.field("js_distance", pa.float64(), nullable=False),
        pa.field("is_drifted", pa.bool_(), nullable=False),
        pa.field("bins", pa.int32(), nullable=False),
        pa.field("reference_shares", pa.list_(pa.float64())),
        pa.field("current_shares", pa.list_(pa.float64())),
        pa.field("customers", pa.int64(), nullable=False),
        pa.field("model_version", pa.int32(), nullable=False),
    ]
)


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index of ``current`` against ``reference`` (shares per bin)."""
    reference, current = np.maximum(reference, SHARE_FLOOR), np.maximum(current, SHARE_FLOOR)
    return float(np.sum((current - reference) * np.log(current / reference)))


def js_distance(reference: np.ndarray, current: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2) between two distributions over the same bins."""
    reference, current = reference / reference.sum(), current / current.sum()
    middle = (reference + current) / 2

    def kl(p: np.ndarray) -> float:
        held = p > 0
        return float(np.sum(p[held] * np.log2(p[held] / middle[held])))

    return float(np.sqrt(max((kl(reference) + kl(current)) / 2, 0.0)))


def bin_counts_sql(source: str, features: list[str], edges: list[list[float]]) -> str:
    """One scan of ``source`` counting its rows in every feature's reference bins
    ``(-inf, e1], (e1, e2], ..., (e_last, inf)``: columns ``bin_<feature>_<i>``."""
    counts = ["count(*) as customers"]
    for position, (feature, cuts) in enumerate(zip(features, edges, strict=True)):
        column = identifier(feature)
        bounds = [None, *cuts, None]
        for index in range(len(cuts) + 1):
            low, high = bounds[index], bounds[index + 1]
            conditions = []
            if low is not None:
                conditions.append(f"{column} > {double_literal(low)}")
            if high is not None:
                conditions.append(f"{column} <= {double_literal(high)}")
            condition = " and ".join(conditions) or "true"
            counts.append(f"sum(case when {condition} then 1 else 0 end) as bin_{position}_{index}")
    return f"select {', '.join(counts)} from {source}"


def feature_drift(features: Engine, registry: pd.DataFrame, params: SegmentationParams) -> pa.Table:
    """``feature_drift``: per clustering feature of the version in use, today's
    customers against the version's train reference (see the module docstring). Empty,
    with a warning, for a version stored before references were."""
    if registry.empty:  # dbt build --empty
        return FEATURE_DRIFT_SCHEMA.empty_table()
    version = version_in_use(registry, params.model_version)
    reference = version_row(registry, version).get("reference_bins")
    if reference is None or (isinstance(reference, float) and np.isnan(reference)) or not len(reference):
        logger.warning(
            f"model version {version} was stored before drift references were: feature_drift is empty. "
            "Refit (dbt build --vars '{refit: true}') to measure drift against a new version."
        )
        return FEATURE_DRIFT_SCHEMA.empty_table()
    names = [entry["feature"] for entry in reference]
    check_features(features, names)
    counts = features.frame(bin_counts_sql(features.source, names, [list(entry["edges"]) for entry in reference]))
    customers = int(counts["customers"].iloc[0])
    rows = []
    for position, entry in enumerate(reference):
        expected = np.asarray(entry["shares"], dtype=np.float64)
        found = np.array([counts[f"bin_{position}_{index}"].iloc[0] for index in range(len(expected))], dtype=float)
        current = found / customers if customers else np.zeros_like(found)
        index = psi(expected, current) if customers else 0.0
        rows.append(
            {
                "feature": entry["feature"],
                "feature_position": position + 1,
                "psi": index,
                "js_distance": js_distance(expected, current) if customers else 0.0,
                "is_drifted": index > params.drift_psi_threshold,
                "bins": len(expected),
                "reference_shares": expected.tolist(),
                "current_shares": current.tolist(),
                "customers": customers,
                "model_version": version,
            }
        )
    drifted = sorted((row for row in rows if row["is_drifted"]), key=lambda row: -row["psi"])
    if drifted:
        logger.warning(
            f"refit recommended: model version {version} was fitted on customers unlike today's; PSI above "
            f"{params.drift_psi_threshold:g} on "
            + ", ".join(f"{row['feature']} ({row['psi']:.2f})" for row in drifted)
            + " (feature_drift). Refit with dbt build --vars '{refit: true}'."
        )
    return pa.Table.from_pylist(rows, schema=FEATURE_DRIFT_SCHEMA)
