"""The registry row of a new version, whichever engine fitted it.

:class:`FittedVersion` is what the fit (:mod:`segmentation.fit.procedure`) found, on
any engine; :func:`registry_row` turns it into the row
``segmentation_models`` appends (:data:`segmentation.scoring.registry.REGISTRY_SCHEMA`),
with segment ids matched to the latest stored version (:func:`number_segments`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.fit.segment_ids import PreviousSegments, match_to_previous, numbering_by_size
from segmentation.log import logger
from segmentation.params import SegmentationParams
from segmentation.scoring.model import SegmentModel, real_units
from segmentation.scoring.registry import REGISTRY_SCHEMA


def null_if_nan(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def previous_segments(registry: pd.DataFrame) -> PreviousSegments | None:
    """The segments of the latest stored version (what a refit is matched to)."""
    if registry.empty:
        return None
    latest = registry.loc[registry["model_version"].idxmax()]
    segments = sorted(latest["segments"], key=lambda segment: segment["segment_id"])
    return PreviousSegments(
        model_version=int(latest["model_version"]),
        features=tuple(latest["features"]),
        segment_ids=np.array([segment["segment_id"] for segment in segments], dtype=np.int32),
        centroids_real=np.array([segment["centroid_real"] for segment in segments], dtype=np.float64),
    )


def number_segments(
    profiles: np.ndarray, sizes: np.ndarray, centroids: np.ndarray, model: SegmentModel, registry: pd.DataFrame
) -> tuple[np.ndarray, int | None]:
    """``ids[label]`` for a new fit's k-means labels (row ``label`` of ``profiles``, the
    mean scaled features, and of ``sizes``, the train customers), and the version they
    were matched to: the latest stored version's ids when the segments can be matched,
    else the numbering rule (None)."""
    previous = previous_segments(registry)
    ids = match_to_previous(profiles, model, previous) if previous is not None else None
    if ids is None:
        return numbering_by_size(sizes, centroids), None
    return ids, previous.model_version


def _segment_structs(
    named: pd.DataFrame, profiles: np.ndarray, train_counts: np.ndarray, model: SegmentModel
) -> list[dict]:
    """The ``segments`` list of a registry row (row i of each argument is segment i + 1)."""
    return [
        {
            "segment_id": int(named_row["segment_id"]),
            "segment_name": named_row["segment_name"],
            "description": named_row["description"],
            "naming_rule": None if pd.isna(named_row["naming_rule"]) else int(named_row["naming_rule"]),
            "naming_z_score": None if pd.isna(named_row["naming_z_score"]) else float(named_row["naming_z_score"]),
            "train_customer_count": int(train_counts[position]),
            "centroid_scaled": profiles[position].tolist(),
            "centroid_real": real_units(
                profiles[position] * model.scaler_scale + model.scaler_mean, model.log_shifts
            ).tolist(),
        }
        for position, named_row in named.iterrows()
    ]


def _nullable(per_feature: np.ndarray) -> list[float | None]:
    """A per-feature array as stored: NaN (not applied to that feature) as null."""
    return [None if np.isnan(value) else float(value) for value in per_feature]


def unnamed_segments(n_segments: int) -> dict[int, str]:
    return {segment: f"segment {segment}" for segment in range(1, n_segments + 1)}


@dataclass(frozen=True)
class FittedVersion:
    """What a fit found, whichever engine fitted it: the registry row's content.

    ``named``, ``profiles`` and ``train_counts`` have row i for segment_id i + 1;
    ``elbow`` is :func:`segmentation.fit.elbow.elbow_curve`'s table; ``quality`` the
    ``train_``/``test_`` silhouette and mean squared distance."""

    model: SegmentModel
    params: SegmentationParams
    elbow: pd.DataFrame
    named: pd.DataFrame
    profiles: np.ndarray
    train_counts: np.ndarray
    train_customer_count: int
    test_customer_count: int
    train_fingerprint: str
    ids_matched_to_version: int | None
    quality: dict[str, float | None]
    #: row i: segment_id i + 1; per clustering feature, the median in real units
    segment_feature_medians: np.ndarray
    #: per clustering feature, the drift reference (:func:`segmentation.fit.calibration.reference_bins`)
    reference_bins: list[dict]


def registry_row(fitted: FittedVersion, registry: pd.DataFrame) -> pa.Table:
    """The registry row of a new version (the next id after those in ``registry``)."""
    model, params, elbow = fitted.model, fitted.params, fitted.elbow
    row = {
        "model_version": int(registry["model_version"].max()) + 1 if not registry.empty else 1,
        "fitted_at": datetime.now(UTC).replace(tzinfo=None),
        "reducer": params.reducer,
        "n_segments": model.n_segments,
        "n_segments_requested": params.n_segments_label,
        "n_dimensions": int(model.centroids.shape[1]),
        "random_seed": params.random_seed,
        "parameters": json.dumps(asdict(params), sort_keys=True),
        "train_customer_count": fitted.train_customer_count,
        "test_customer_count": fitted.test_customer_count,
        "train_fingerprint": fitted.train_fingerprint,
        "ids_matched_to_version": fitted.ids_matched_to_version,
        "elbow_sample_size": int(elbow["elbow_sample_size"].iloc[0]),
        "features": list(model.features),
        "feature_transform": params.feature_transform,
        "log_shifts": _nullable(model.log_shifts),
        "zero_values": _nullable(model.zero_values),
        "scaler_mean": model.scaler_mean.tolist(),
        "scaler_scale": model.scaler_scale.tolist(),
        "reducer_layers": [
            {"kernel": layer.kernel.tolist(), "bias": layer.bias.tolist(), "activation": layer.activation}
            for layer in model.layers
        ],
        "centroids": model.centroids.tolist(),
        "segments": _segment_structs(fitted.named, fitted.profiles, fitted.train_counts, model),
        # NaN (for example the silhouette of k = 1) is stored as null, as pandas would.
        "elbow": elbow.drop(columns="elbow_sample_size").astype(object).where(elbow.notna(), None).to_dict("records"),
        "contamination": params.contamination,
        "atypical_threshold": null_if_nan(model.atypical_threshold),
        "segment_radii": model.segment_radii.tolist(),
        "segment_feature_medians": [[null_if_nan(value) for value in row] for row in fitted.segment_feature_medians],
        "reference_bins": fitted.reference_bins,
    }
    row.update(fitted.quality)
    logger.info(
        f"model version {row['model_version']}: {model.n_segments} segments "
        + ", ".join(f"{segment['segment_id']} {segment['segment_name']!r}" for segment in row["segments"])
    )
    return pa.Table.from_pylist([row], schema=REGISTRY_SCHEMA)
