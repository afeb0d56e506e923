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
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.columns import CLUSTERING_FEATURES
from segmentation.elbow import ELBOW_SCHEMA, elbow_curve
from segmentation.feature_table import FeatureTable, feature_table
from segmentation.log import logger
from segmentation.metrics import clustering_scores
from segmentation.naming import name_segments
from segmentation.params import SegmentationParams
from segmentation.pipeline import (
    N_INIT,
    SegmentationError,
    check_fit_size,
    numbering_by_size,
    varying_by_range,
)
from segmentation.reducers import fit_reduction
from segmentation.relations import frame_to_arrow, is_spark_frame
from segmentation.scoring.sql import score_select
from segmentation.segment_model import (
    DenseLayer,
    PreviousSegments,
    SegmentModel,
    fit_kmeans,
    match_to_previous,
    model_from_reduction,
    reorder_by_id,
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


def _unnamed(n_segments: int) -> dict[int, str]:
    return {segment: f"segment {segment}" for segment in range(1, n_segments + 1)}


def _train_label_stats(table: FeatureTable, model: SegmentModel, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Over every train customer, computed by DuckDB with the rendered SQL: the size of
    each k-means label (row ``label`` of ``model.centroids``) and its mean scaled
    features (NaN for an empty label)."""
    n_segments = model.n_segments
    labelled = score_select(
        model,
        f"(select * from {table.source} as features where split = 'train')",
        0,
        _unnamed(n_segments),
        passthrough=names,
    )
    means = ", ".join(f"avg({name}) as {name}" for name in names)
    stats = table.frame(
        f"select segment_id, count(*) as train_customers, {means} from ({labelled}) as labelled group by segment_id"
    )
    stats = stats.set_index(stats["segment_id"] - 1).reindex(range(n_segments))
    sizes = stats["train_customers"].fillna(0).to_numpy(dtype=np.int64)
    profiles = (stats[list(names)].to_numpy(dtype=np.float64) - model.scaler_mean) / model.scaler_scale
    return sizes, profiles


def _split_quality(table: FeatureTable, model: SegmentModel, params: SegmentationParams) -> dict[str, float | None]:
    """Mean squared distance to the centroid over every customer of each split (DuckDB),
    and the silhouette on a seeded sample of at most ``silhouette_sample_size`` of each."""
    scored = score_select(model, table.source, 0, _unnamed(model.n_segments), passthrough=["split"])
    msd = table.frame(
        "select split, avg(distance_to_centroid * distance_to_centroid) as msd "
        f"from ({scored}) as scored group by split"
    ).set_index("split")["msd"]
    samples = table.split_samples(model.features, params.silhouette_sample_size, params.random_seed)
    quality: dict[str, float | None] = {}
    for split in ("train", "test"):
        rows = samples[samples["split"] == split]
        silhouette = np.nan
        if len(rows):
            reduced = model.reduce(rows[list(model.features)].to_numpy(dtype=np.float64))
            silhouette = clustering_scores(reduced, model.assign(reduced)[0], len(rows), params.random_seed)[
                "silhouette"
            ]
        quality[f"{split}_silhouette"] = _null_if_nan(silhouette) if len(rows) else None
        quality[f"{split}_mean_squared_distance"] = _null_if_nan(float(msd[split])) if split in msd.index else None
    return quality


def fit_sample_size(params: SegmentationParams) -> int:
    """How many train customers the fit reads: var kmeans_sample_size, at least k."""
    return max(params.kmeans_sample_size, params.n_segments or 1)


def fit_version(
    features: pd.DataFrame | Any,
    params: SegmentationParams,
    registry: pd.DataFrame,
    naming_rules: pd.DataFrame,
    connection: Any = None,
) -> pa.Table:
    """Fit a new model version on the train split of ``features``; its registry row.

    ``features`` is a DuckDB relation on ``connection`` (a dbt Python model's session)
    or a pandas DataFrame. Only seeded samples enter Python: the scaler, reducer, elbow
    curve and k-means are fitted on a sample of at most ``kmeans_sample_size`` train
    customers; sizes, segment profiles and quality over every customer are computed by
    DuckDB with the rendered SQL (:mod:`segmentation.scoring.sql`).

    ``registry`` holds the versions stored so far (possibly none): the new version takes
    the next id, and its segment ids are matched to the latest stored version's.
    """
    with feature_table(features, connection) as table:
        return _fit_version(table, params, registry, naming_rules)


def _fit_version(
    table: FeatureTable, params: SegmentationParams, registry: pd.DataFrame, naming_rules: pd.DataFrame
) -> pa.Table:
    table.check()
    summary = table.summary()
    check_fit_size(max(params.n_segments or 2, 2), summary.train_customer_count)
    varies = varying_by_range(summary.train_ranges)
    names = [name for name, keep in zip(CLUSTERING_FEATURES, varies, strict=True) if keep]
    sample = table.sample(names, fit_sample_size(params), params.random_seed, where="split = 'train'")
    train = sample[names].to_numpy(dtype=np.float64)
    del sample
    model = model_from_reduction(fit_reduction(train, params), names, params.reducer)
    reduced_train = model.reduce(train)
    del train  # the copies of the train rows go as soon as they are used: peak memory
    logger.info(
        f"reducer {params.reducer}: {len(names)} features -> {reduced_train.shape[1]} dimensions, fitted on "
        f"{len(reduced_train):,} of {summary.train_customer_count:,} train customers"
    )

    elbow = elbow_curve(reduced_train, params)
    n_segments = int(elbow.loc[elbow["is_selected"], "k"].iloc[0])
    check_fit_size(n_segments, len(reduced_train))
    kmeans_centroids = fit_kmeans(reduced_train, n_segments, N_INIT, params.random_seed)
    logger.info(
        f"k-means k={n_segments}: fitted on {len(reduced_train):,} of {summary.train_customer_count:,} train customers"
    )
    del reduced_train

    sizes, profiles = _train_label_stats(table, model.with_centroids(kmeans_centroids), names)
    ids, matched_to = number_segments(profiles, sizes, kmeans_centroids, model, registry)
    model = model.with_centroids(reorder_by_id(kmeans_centroids, ids))
    profiles = reorder_by_id(profiles, ids)
    return registry_row(
        FittedVersion(
            model=model,
            params=params,
            elbow=elbow,
            named=name_segments(profiles, names, naming_rules),
            profiles=profiles,
            train_counts=reorder_by_id(sizes, ids),
            train_customer_count=summary.train_customer_count,
            test_customer_count=summary.test_customer_count,
            train_fingerprint=summary.train_fingerprint,
            ids_matched_to_version=matched_to,
            quality=_split_quality(table, model, params),
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
    features: pd.DataFrame | Any,
    params: SegmentationParams,
    registry: pd.DataFrame,
    naming_rules: pd.DataFrame,
    connection: Any = None,
) -> pa.Table:
    """The rows ``segmentation_models`` appends this build: a new version when var refit
    is true; none when it is false (after checking the version to score with exists) or
    when there are no customers (``dbt build --empty``). ``features`` is pandas, a DuckDB
    relation on ``connection`` (read through samples and aggregates, see
    :func:`fit_version`), or a Spark DataFrame, which is fitted with Spark MLlib
    (:mod:`segmentation.spark`)."""
    spark = is_spark_frame(features)
    if features.isEmpty() if spark else _is_empty(features):
        return REGISTRY_SCHEMA.empty_table()
    if not params.refit:
        version = version_in_use(registry, params.model_version)
        logger.info(f"refit false: nothing fitted; customers are scored with stored model version {version}")
        return REGISTRY_SCHEMA.empty_table()
    if spark:
        from segmentation.spark import fit_version_spark  # PySpark only on Spark

        return fit_version_spark(features, params, registry, naming_rules)
    return fit_version(features, params, registry, naming_rules, connection)


def _is_empty(features: pd.DataFrame | Any) -> bool:
    """Whether a pandas DataFrame or a DuckDB relation has no rows (without reading them)."""
    if isinstance(features, pd.DataFrame):
        return features.empty
    return features.limit(1).fetchall() == []


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


def segment_transitions(features: pd.DataFrame | Any, registry: pd.DataFrame, connection: Any = None) -> pa.Table:
    """How the current customers move between the two latest stored versions: each is
    scored with both (by DuckDB, with the rendered SQL) and the pairs (from segment, to
    segment) are counted. Empty with fewer than two versions. ``features`` is a DuckDB
    relation on ``connection`` or a pandas DataFrame."""
    if len(registry) < 2:
        return TRANSITIONS_SCHEMA.empty_table()
    older, newer = sorted(int(version) for version in registry["model_version"])[-2:]
    with feature_table(features, connection) as table:
        if table.is_empty():
            return TRANSITIONS_SCHEMA.empty_table()
        scored = {
            version: score_select(
                load_model(registry, version), table.source, version, segment_names(registry, version)
            )
            for version in (older, newer)
        }
        counts = table.frame(
            "select older.segment_id as from_segment_id, newer.segment_id as to_segment_id, count(*) as customer_count "
            f"from ({scored[older]}) as older inner join ({scored[newer]}) as newer using (customer_id) "
            "group by all order by from_segment_id, to_segment_id"
        )
    from_totals = counts.groupby("from_segment_id")["customer_count"].transform("sum")
    counts["share_of_from_segment"] = counts["customer_count"] / from_totals
    counts["from_model_version"] = older
    counts["to_model_version"] = newer
    counts["from_segment_name"] = counts["from_segment_id"].map(segment_names(registry, older))
    counts["to_segment_name"] = counts["to_segment_id"].map(segment_names(registry, newer))
    kept = counts.loc[counts["from_segment_id"] == counts["to_segment_id"], "customer_count"].sum()
    logger.info(
        f"segment transitions {older} -> {newer}: "
        f"{kept / counts['customer_count'].sum():.1%} of customers keep their segment_id"
    )
    return frame_to_arrow(counts, TRANSITIONS_SCHEMA)
