"""The model registry: one row per fitted model version, kept across builds.

``segmentation_models`` (an incremental dbt Python model that a full refresh does not
rebuild) appends one row per refitting build (var ``refit: true``): the version's id, its
parameters, the fingerprint of its training data, its metrics, its elbow curve, its
segments (names, descriptions, centroids in scaled and real units) and every array needed
to score a customer (:class:`~segmentation.segment_model.SegmentModel`), as numbers in
list columns, not pickles. A build with ``refit: false`` appends nothing and scores with
a stored version.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.elbow import ELBOW_SCHEMA, elbow_curve
from segmentation.log import logger
from segmentation.metrics import clustering_scores, kmeans_sample
from segmentation.naming import name_segments
from segmentation.params import SegmentationParams
from segmentation.pipeline import (
    N_INIT,
    SegmentationError,
    check_fit_size,
    feature_matrix,
    numbering_by_size,
    train_mask,
    usable_feature_matrix,
)
from segmentation.reducers import fit_reduction
from segmentation.relations import frame_to_arrow, is_spark_frame
from segmentation.segment_model import (
    DenseLayer,
    PreviousSegments,
    SegmentModel,
    fingerprint,
    fit_kmeans,
    match_to_previous,
    model_from_reduction,
    reorder_by_id,
    segment_profiles,
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
        ("scaler_mean", _DOUBLES),
        ("scaler_scale", _DOUBLES),
        ("reducer_layers", pa.list_(LAYER_TYPE)),
        ("centroids", _MATRIX),
        ("segments", pa.list_(SEGMENT_TYPE)),
        ("elbow", pa.list_(ELBOW_TYPE)),
    ]
)

HOW_TO_FIT = "Run a refitting build first: dbt build (var refit is true by default)."


def _null_if_nan(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _mean_squared_distance(distances: np.ndarray) -> float:
    return float(np.mean(distances**2)) if len(distances) else np.nan


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
            "centroid_real": (profiles[position] * model.scaler_scale + model.scaler_mean).tolist(),
        }
        for position, named_row in named.iterrows()
    ]


def _split_quality(
    reduced: np.ndarray,
    segment_ids: np.ndarray,
    distances: np.ndarray,
    is_train: np.ndarray,
    params: SegmentationParams,
) -> dict[str, float | None]:
    """Silhouette (sampled) and mean squared distance to the centroid, on train and on test."""
    quality: dict[str, float | None] = {}
    for split, mask in (("train", is_train), ("test", ~is_train)):
        scores = clustering_scores(reduced[mask], segment_ids[mask], params.silhouette_sample_size, params.random_seed)
        quality[f"{split}_silhouette"] = _null_if_nan(scores["silhouette"]) if mask.any() else None
        quality[f"{split}_mean_squared_distance"] = _null_if_nan(_mean_squared_distance(distances[mask]))
    return quality


def fit_version(
    features: pd.DataFrame, params: SegmentationParams, registry: pd.DataFrame, naming_rules: pd.DataFrame
) -> pa.Table:
    """Fit a new model version on the train split of ``features``; its registry row.

    ``registry`` holds the versions stored so far (possibly none): the new version takes
    the next id, and its segment ids are matched to the latest stored version's.
    """
    check_fit_size(max(params.n_segments or 2, 2), int(train_mask(features).sum()))
    matrix, is_train, names = usable_feature_matrix(features)
    train = matrix[is_train]
    model = model_from_reduction(fit_reduction(train, params), names, params.reducer)
    scaled_train = model.scale(train)
    del train  # the copies of the train rows go as soon as they are used: peak memory
    reduced_train = model.reduce_scaled(scaled_train)
    logger.info(
        f"reducer {params.reducer}: {len(names)} features -> {reduced_train.shape[1]} dimensions, "
        f"fitted on {len(reduced_train):,} train customers"
    )

    elbow = elbow_curve(reduced_train, params)
    n_segments = int(elbow.loc[elbow["is_selected"], "k"].iloc[0])
    check_fit_size(n_segments, len(reduced_train))
    kmeans_rows = reduced_train[
        kmeans_sample(len(reduced_train), n_segments, params.kmeans_sample_size, params.random_seed)
    ]
    kmeans_centroids = fit_kmeans(kmeans_rows, n_segments, N_INIT, params.random_seed)
    logger.info(f"k-means k={n_segments}: fitted on {len(kmeans_rows):,} of {len(reduced_train):,} train customers")
    labels = model.with_centroids(kmeans_centroids).assign(reduced_train)[0] - 1
    profiles = segment_profiles(scaled_train, labels, n_segments)
    del scaled_train

    sizes = np.bincount(labels, minlength=n_segments)
    ids, matched_to = number_segments(profiles, sizes, kmeans_centroids, model, registry)
    model = model.with_centroids(reorder_by_id(kmeans_centroids, ids))
    profiles = reorder_by_id(profiles, ids)
    train_counts = reorder_by_id(sizes, ids)
    named = name_segments(profiles, names, naming_rules)

    reduced_all = model.reduce(matrix)
    segment_ids, distances, _ = model.assign(reduced_all)
    return registry_row(
        FittedVersion(
            model=model,
            params=params,
            elbow=elbow,
            named=named,
            profiles=profiles,
            train_counts=train_counts,
            train_customer_count=int(is_train.sum()),
            test_customer_count=int((~is_train).sum()),
            train_fingerprint=fingerprint(features.loc[is_train, ["customer_id", *names]]),
            ids_matched_to_version=matched_to,
            quality=_split_quality(reduced_all, segment_ids, distances, is_train, params),
        ),
        registry,
    )


@dataclass(frozen=True)
class FittedVersion:
    """What a fit found, whichever engine fitted it: the registry row's content.

    ``named``, ``profiles`` and ``train_counts`` have row i for segment_id i + 1;
    ``elbow`` is :func:`segmentation.elbow.elbow_curve`'s table; ``quality`` the
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
    }
    row.update(fitted.quality)
    logger.info(
        f"model version {row['model_version']}: {model.n_segments} segments "
        + ", ".join(f"{segment['segment_id']} {segment['segment_name']!r}" for segment in row["segments"])
    )
    return pa.Table.from_pylist([row], schema=REGISTRY_SCHEMA)


def read_registry(table: pa.Table) -> pd.DataFrame:
    """The registry as pandas, list columns as Python lists (one row per version)."""
    return pd.DataFrame(table.to_pylist(), columns=REGISTRY_SCHEMA.names)


def version_in_use(registry: pd.DataFrame, requested: int | None) -> int:
    """The version a build scores with: ``requested`` (var model_version) or the latest."""
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
    )


def segment_names(registry: pd.DataFrame, model_version: int) -> dict[int, str]:
    row = version_row(registry, model_version)
    return {int(segment["segment_id"]): segment["segment_name"] for segment in row["segments"]}


def model_in_use(registry: pd.DataFrame, params: SegmentationParams) -> tuple[int, SegmentModel]:
    """The version a build scores with (var model_version, or the latest) and its model."""
    version = version_in_use(registry, params.model_version)
    return version, load_model(registry, version)


def update_registry(
    features: pd.DataFrame | Any, params: SegmentationParams, registry: pd.DataFrame, naming_rules: pd.DataFrame
) -> pa.Table:
    """The rows ``segmentation_models`` appends this build: a new version when var refit
    is true; none when it is false (after checking the version to score with exists) or
    when there are no customers (``dbt build --empty``). ``features`` is pandas, or a
    Spark DataFrame, which is fitted with Spark MLlib (:mod:`segmentation.spark`)."""
    spark = is_spark_frame(features)
    if features.isEmpty() if spark else features.empty:
        return REGISTRY_SCHEMA.empty_table()
    if not params.refit:
        version = version_in_use(registry, params.model_version)
        logger.info(f"refit false: nothing fitted; customers are scored with stored model version {version}")
        return REGISTRY_SCHEMA.empty_table()
    if spark:
        from segmentation.spark import fit_version_spark  # PySpark only on Spark

        return fit_version_spark(features, params, registry, naming_rules)
    return fit_version(features, params, registry, naming_rules)


TRANSITIONS_SCHEMA = pa.schema(
    [
        ("from_model_version", pa.int32()),
        ("from_segment_id", pa.int32()),
        ("from_segment_name", pa.string()),
        ("to_model_version", pa.int32()),
        ("to_segment_id", pa.int32()),
        ("to_segment_name", pa.string()),
        ("customer_count", pa.int64()),
        ("share_of_from_segment", pa.float64()),
    ]
)


def score(features: pd.DataFrame, model: SegmentModel) -> np.ndarray:
    """The segment_id of every row of ``features`` under ``model``."""
    return model.assign(model.reduce(feature_matrix(features, model.features)))[0]


def segment_transitions(features: pd.DataFrame, registry: pd.DataFrame) -> pa.Table:
    """How the current customers move between the two latest stored versions: each is
    scored with both, and the pairs (from segment, to segment) are counted. Empty with
    fewer than two versions."""
    if features.empty or len(registry) < 2:
        return TRANSITIONS_SCHEMA.empty_table()
    older, newer = sorted(int(version) for version in registry["model_version"])[-2:]
    pairs = pd.DataFrame(
        {
            "from_segment_id": score(features, load_model(registry, older)),
            "to_segment_id": score(features, load_model(registry, newer)),
        }
    )
    counts = pairs.value_counts().rename("customer_count").reset_index()
    counts = counts.sort_values(["from_segment_id", "to_segment_id"], ignore_index=True)
    from_totals = counts.groupby("from_segment_id")["customer_count"].transform("sum")
    counts["share_of_from_segment"] = counts["customer_count"] / from_totals
    counts["from_model_version"] = older
    counts["to_model_version"] = newer
    counts["from_segment_name"] = counts["from_segment_id"].map(segment_names(registry, older))
    counts["to_segment_name"] = counts["to_segment_id"].map(segment_names(registry, newer))
    logger.info(
        f"segment transitions {older} -> {newer}: "
        f"{pairs['from_segment_id'].eq(pairs['to_segment_id']).mean():.1%} of customers keep their segment_id"
    )
    return frame_to_arrow(counts, TRANSITIONS_SCHEMA)
