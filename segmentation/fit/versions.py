"""Fitting a new model version on DuckDB: what ``segmentation_models`` calls.

:func:`update_registry` decides whether the build fits (var ``refit``) and on which
engine; :func:`fit_version` fits on DuckDB. Only seeded samples enter Python: the scaler,
reducer, elbow curve and k-means are fitted on a sample of at most ``kmeans_sample_size``
train customers; sizes, segment profiles and quality over every customer are computed by
DuckDB with the rendered SQL (:mod:`segmentation.scoring.sql`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.columns import CLUSTERING_FEATURES
from segmentation.fit.elbow import elbow_curve
from segmentation.fit.metrics import clustering_scores
from segmentation.fit.naming import name_segments
from segmentation.fit.pipeline import N_INIT, check_fit_size, fit_kmeans, varying_by_range
from segmentation.fit.reducers import fit_reduction, model_from_reduction
from segmentation.fit.segment_ids import reorder_by_id
from segmentation.fit.version_row import FittedVersion, null_if_nan, number_segments, registry_row, unnamed_segments
from segmentation.log import logger
from segmentation.params import SegmentationParams
from segmentation.relations import is_spark_frame
from segmentation.scoring.features import FeatureTable, feature_table
from segmentation.scoring.model import SegmentModel
from segmentation.scoring.registry import REGISTRY_SCHEMA, version_in_use
from segmentation.scoring.sql import score_select


def _whole_table_stats(
    table: FeatureTable, model: SegmentModel, names: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """One scoring pass over every customer, by DuckDB with the rendered SQL: the size of
    each k-means label (row ``label`` of ``model.centroids``) on train, its mean scaled
    features on train (NaN for an empty label), and the mean squared distance to the
    nearest centroid per split (numbering the labels later moves no distance)."""
    n_segments = model.n_segments
    scored = score_select(model, table.source, 0, unnamed_segments(n_segments), passthrough=["split", *names])
    means = ", ".join(f"avg({name}) as {name}" for name in names)
    stats = table.frame(
        "select split, segment_id, count(*) as customers, "
        f"sum(distance_to_centroid * distance_to_centroid) as squared_distances, {means} "
        f"from ({scored}) as scored group by split, segment_id"
    )
    per_split = stats.groupby("split")[["squared_distances", "customers"]].sum()
    msd = per_split["squared_distances"] / per_split["customers"]
    train = stats[stats["split"] == "train"]
    train = train.set_index(train["segment_id"] - 1).reindex(range(n_segments))
    sizes = train["customers"].fillna(0).to_numpy(dtype=np.int64)
    profiles = (train[list(names)].to_numpy(dtype=np.float64) - model.scaler_mean) / model.scaler_scale
    return sizes, profiles, msd


def _split_quality(
    table: FeatureTable, model: SegmentModel, params: SegmentationParams, msd: pd.Series
) -> dict[str, float | None]:
    """Mean squared distance to the centroid over every customer of each split (``msd``,
    from :func:`_whole_table_stats`), and the silhouette on a seeded sample of at most
    ``silhouette_sample_size`` of each."""
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
        quality[f"{split}_silhouette"] = null_if_nan(silhouette) if len(rows) else None
        quality[f"{split}_mean_squared_distance"] = null_if_nan(float(msd[split])) if split in msd.index else None
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

    sizes, profiles, msd = _whole_table_stats(table, model.with_centroids(kmeans_centroids), names)
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
            quality=_split_quality(table, model, params, msd),
        ),
        registry,
    )


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
    (:mod:`segmentation.fit.spark`)."""
    spark = is_spark_frame(features)
    if features.isEmpty() if spark else _is_empty(features):
        return REGISTRY_SCHEMA.empty_table()
    if not params.refit:
        version = version_in_use(registry, params.model_version)
        logger.info(f"refit false: nothing fitted; customers are scored with stored model version {version}")
        return REGISTRY_SCHEMA.empty_table()
    if spark:
        from segmentation.fit.spark import fit_version_spark  # PySpark only on Spark

        return fit_version_spark(features, params, registry, naming_rules)
    return fit_version(features, params, registry, naming_rules, connection)


def _is_empty(features: pd.DataFrame | Any) -> bool:
    """Whether a pandas DataFrame or a DuckDB relation has no rows (without reading them)."""
    if isinstance(features, pd.DataFrame):
        return features.empty
    return features.limit(1).fetchall() == []
