"""The model registry's format, and reading it: one row per fitted model version.

``segmentation_models`` (an incremental dbt Python model that a full refresh does not
rebuild) appends one row per refitting build (var ``refit: true``): the version's id, its
parameters, the fingerprint of its training data, its metrics, its elbow curve, its
segments (names, descriptions, centroids in scaled and real units) and every array needed
to score a customer (:class:`~segmentation.scoring.model.SegmentModel`), as numbers in
list columns, not pickles. A build with ``refit: false`` appends nothing and scores with
a stored version. Writing a row is the fit side's (:mod:`segmentation.fit.version_row`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.params import SegmentationParams
from segmentation.scoring.model import DenseLayer, SegmentationError, SegmentModel

ELBOW_SCHEMA = pa.schema(
    [
        ("k", pa.int32()),
        ("inertia", pa.float64()),
        ("silhouette", pa.float64()),
        ("davies_bouldin", pa.float64()),
        ("calinski_harabasz", pa.float64()),
        ("is_knee", pa.bool_()),
        ("is_selected", pa.bool_()),
        ("elbow_sample_size", pa.int64()),
    ]
)

_DOUBLES = pa.list_(pa.float64())


_MATRIX = pa.list_(_DOUBLES)


LAYER_TYPE = pa.struct([("kernel", _MATRIX), ("bias", _DOUBLES), ("activation", pa.string())])


SEGMENT_TYPE = pa.struct(
    [
        ("segment_id", pa.int32()),
        ("segment_name", pa.string()),
        ("description", pa.string()),
        ("naming_rule", pa.int32()),
        ("naming_z_score", pa.float64()),
        ("train_customer_count", pa.int64()),
        ("centroid_scaled", _DOUBLES),
        ("centroid_real", _DOUBLES),
    ]
)


#: Per clustering feature, the train split's distribution at fit time: the drift reference.
#: ``edges`` are the cut points (quantiles of the train values, duplicates dropped), the
#: bins ``(-inf, e1], (e1, e2], ..., (e_last, inf)``; ``shares`` the train share in each.
REFERENCE_BINS_TYPE = pa.struct([("feature", pa.string()), ("edges", _DOUBLES), ("shares", _DOUBLES)])


ELBOW_TYPE = pa.struct([field for field in ELBOW_SCHEMA if field.name != "elbow_sample_size"])


REGISTRY_SCHEMA = pa.schema(
    [
        pa.field("model_version", pa.int32(), nullable=False),
        ("fitted_at", pa.timestamp("us")),
        ("reducer", pa.string()),
        ("n_segments", pa.int32()),
        ("n_segments_requested", pa.string()),
        ("n_dimensions", pa.int32()),
        ("random_seed", pa.int64()),
        ("parameters", pa.string()),
        ("train_customer_count", pa.int64()),
        ("test_customer_count", pa.int64()),
        ("train_fingerprint", pa.string()),
        ("ids_matched_to_version", pa.int32()),
        ("train_silhouette", pa.float64()),
        ("test_silhouette", pa.float64()),
        ("train_mean_squared_distance", pa.float64()),
        ("test_mean_squared_distance", pa.float64()),
        ("elbow_sample_size", pa.int64()),
        ("features", pa.list_(pa.string())),
        ("feature_transform", pa.string()),
        ("log_shifts", _DOUBLES),
        ("zero_values", _DOUBLES),
        ("scaler_mean", _DOUBLES),
        ("scaler_scale", _DOUBLES),
        ("reducer_layers", pa.list_(LAYER_TYPE)),
        ("centroids", _MATRIX),
        ("segments", pa.list_(SEGMENT_TYPE)),
        ("elbow", pa.list_(ELBOW_TYPE)),
        ("contamination", pa.float64()),
        ("atypical_threshold", pa.float64()),
        ("segment_radii", _DOUBLES),
        ("segment_feature_medians", _MATRIX),
        ("reference_bins", pa.list_(REFERENCE_BINS_TYPE)),
    ]
)


HOW_TO_FIT = "Run a refitting build first: dbt build (var refit is true by default)."


def read_registry(table: pa.Table) -> pd.DataFrame:
    """The registry as pandas, list columns as Python lists (one row per version)."""
    return pd.DataFrame(table.to_pylist(), columns=REGISTRY_SCHEMA.names)


def version_in_use(registry: pd.DataFrame, requested: int | None) -> int:
    """The version a build scores with: ``requested`` (var model_version) or the latest.

    The one rule of "the version in use": the Python models score customer_segments with
    it, and SQL reads the version from there (macros/model_version_in_use.sql).
    ``registry`` needs only its ``model_version`` column."""
    if registry.empty:
        raise SegmentationError(f"no model version is stored in segmentation_models yet. {HOW_TO_FIT}")
    stored = sorted(int(version) for version in registry["model_version"])
    if requested is None:
        return stored[-1]
    if requested not in stored:
        raise SegmentationError(
            f"var model_version={requested} is not in segmentation_models; stored versions: {stored}. "
            "Pick one of them, or leave model_version empty for the latest."
        )
    return requested


def version_row(registry: pd.DataFrame, model_version: int) -> pd.Series:
    """The registry row of ``model_version``."""
    return registry.loc[registry["model_version"] == model_version].iloc[0]


def load_model(registry: pd.DataFrame, model_version: int) -> SegmentModel:
    """The stored arrays of ``model_version`` as a :class:`SegmentModel`."""
    row = version_row(registry, model_version)
    return SegmentModel(
        features=tuple(row["features"]),
        scaler_mean=np.asarray(row["scaler_mean"], dtype=np.float64),
        scaler_scale=np.asarray(row["scaler_scale"], dtype=np.float64),
        reducer=row["reducer"],
        layers=tuple(
            DenseLayer(
                np.asarray(layer["kernel"], dtype=np.float64),
                np.asarray(layer["bias"], dtype=np.float64),
                layer["activation"],
            )
            for layer in row["reducer_layers"]
        ),
        centroids=np.asarray(row["centroids"], dtype=np.float64),
        log_shifts=stored_per_feature(row.get("log_shifts")),
        zero_values=stored_per_feature(row.get("zero_values")),
        segment_radii=np.asarray(_stored(row, "segment_radii") or [], dtype=np.float64),
        atypical_threshold=float(_stored(row, "atypical_threshold") or np.nan),
    )


def _stored(row: pd.Series, column: str):
    """A registry column that versions stored before it existed lack (None then)."""
    value = row.get(column)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def segment_profiles(row: pd.Series, model: SegmentModel) -> tuple[np.ndarray, np.ndarray]:
    """A version's segment profiles (mean scaled features of each segment's train
    customers) and its per-segment feature medians in real units, row i for segment_id
    i + 1; the medians NaN for a version stored before they were."""
    segments = sorted(row["segments"], key=lambda segment: segment["segment_id"])
    profiles = np.array([segment["centroid_scaled"] for segment in segments], dtype=np.float64)
    stored = _stored(row, "segment_feature_medians")
    medians = (
        np.array([[np.nan if value is None else value for value in values] for values in stored], dtype=np.float64)
        if stored
        else np.full((model.n_segments, len(model.features)), np.nan)
    )
    return profiles, medians


def stored_per_feature(stored: list | None) -> np.ndarray:
    """A version's ``log_shifts`` (or ``zero_values``) as an array, null items (features
    used as they are) as NaN; empty for a version stored before the column existed."""
    if stored is None:
        return np.empty(0)
    return np.asarray([np.nan if shift is None else shift for shift in stored], dtype=np.float64)


def segment_names(registry: pd.DataFrame, model_version: int) -> dict[int, str]:
    row = version_row(registry, model_version)
    return {int(segment["segment_id"]): segment["segment_name"] for segment in row["segments"]}


def model_in_use(registry: pd.DataFrame, params: SegmentationParams) -> tuple[int, SegmentModel]:
    """The version a build scores with (var model_version, or the latest) and its model."""
    version = version_in_use(registry, params.model_version)
    return version, load_model(registry, version)


def reducer_in_use(registry: pd.DataFrame, params: SegmentationParams) -> str:
    """The reducer of the version a build scores with; var reducer while no version is
    stored (``dbt build --empty``)."""
    if registry.empty:
        return params.reducer
    return str(version_row(registry, version_in_use(registry, params.model_version))["reducer"])
