"""The fit procedure, written once for every engine: what ``segmentation_models`` runs.

:func:`update_registry` decides whether the build fits (var ``refit``);
:func:`fit_version` fits. Python fits, the database scores: only seeded samples of the
train split enter Python (:meth:`~segmentation.engines.protocol.Engine.sample`), where
scikit-learn fits the scaler, the reducer, the elbow curve and k-means; everything done
to every customer (the size and mean features of each k-means label, the mean squared
distance per split) is the version's rendered scoring SQL
(:mod:`segmentation.scoring.sql`) aggregated by the engine. The steps:

1. check the feature columns and values, and summarise them in one scan;
2. keep the features that vary on the train split;
3. fit ``FeatureTransform -> StandardScaler -> reducer`` on a seeded sample of at most
   ``kmeans_sample_size`` train customers, and reduce it;
4. the elbow curve on that sample picks k (:mod:`segmentation.fit.elbow`); k-means on it;
5. label statistics over every customer (one scoring pass in the database);
6. segment ids (matched to the latest stored version, else by size), names, the quality
   per split;
7. what the version learns about its train split (:mod:`segmentation.fit.calibration`):
   segment radii and the atypical threshold, per-segment feature medians, the drift
   reference bins; and the registry row (:mod:`segmentation.fit.version_row`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.engines import Engine
from segmentation.fit.calibration import atypical_threshold, reference_bins, segment_feature_medians, segment_radii
from segmentation.fit.elbow import elbow_curve
from segmentation.fit.naming import name_segments
from segmentation.fit.reducers import fit_reduction, model_from_reduction
from segmentation.fit.scores import clustering_scores
from segmentation.fit.segment_ids import reorder_by_id
from segmentation.fit.steps import N_INIT, check_fit_size, fit_kmeans, selected_n_segments, varying_by_range
from segmentation.fit.transforms import log_columns
from segmentation.fit.version_row import FittedVersion, null_if_nan, number_segments, registry_row, unnamed_segments
from segmentation.log import logger
from segmentation.params import SegmentationParams
from segmentation.scoring.model import SegmentModel, check_feature_columns, check_finite_counts
from segmentation.scoring.registry import REGISTRY_SCHEMA, version_in_use
from segmentation.scoring.sql import score_select, transformed_feature


@dataclass(frozen=True)
class LabelStatistics:
    """Over every customer, per k-means label (row ``label`` of the centroids): its train
    size and mean scaled features (NaN for a label no train customer is nearest to), and
    per split the mean squared distance to the nearest centroid."""

    sizes: np.ndarray
    profiles: np.ndarray
    mean_squared_distance: pd.Series


def label_statistics(features: Engine, model: SegmentModel) -> LabelStatistics:
    """:class:`LabelStatistics` in one scoring pass over every customer, by the engine
    with the rendered SQL (numbering the labels later moves no distance)."""
    names = list(model.features)
    n_segments = model.n_segments
    scored = score_select(model, features.source, 0, unnamed_segments(n_segments), passthrough=["split", *names])
    # The means of the transformed features: what the scaler standardises.
    means = ", ".join(f"avg({transformed_feature(model, position)}) as {name}" for position, name in enumerate(names))
    stats = features.frame(
        "select split, segment_id, count(*) as customers, "
        f"sum(distance_to_centroid * distance_to_centroid) as squared_distances, {means} "
        f"from ({scored}) as scored group by split, segment_id"
    )
    per_split = stats.groupby("split")[["squared_distances", "customers"]].sum()
    train = stats[stats["split"] == "train"]
    train = train.set_index(train["segment_id"] - 1).reindex(range(n_segments))
    return LabelStatistics(
        sizes=train["customers"].fillna(0).to_numpy(dtype=np.int64),
        profiles=(train[names].to_numpy(dtype=np.float64) - model.scaler_mean) / model.scaler_scale,
        mean_squared_distance=per_split["squared_distances"] / per_split["customers"],
    )


def split_quality(
    features: Engine, model: SegmentModel, params: SegmentationParams, mean_squared_distance: pd.Series
) -> dict[str, float | None]:
    """Mean squared distance to the centroid over every customer of each split (from
    :func:`label_statistics`), and the silhouette on a seeded sample of at most
    ``silhouette_sample_size`` of each."""
    samples = features.split_samples(model.features, params.silhouette_sample_size, params.random_seed)
    quality: dict[str, float | None] = {}
    for split in ("train", "test"):
        rows = samples[samples["split"] == split]
        silhouette = None
        if len(rows):
            reduced = model.reduce(rows[list(model.features)].to_numpy(dtype=np.float64))
            scores = clustering_scores(reduced, model.assign(reduced)[0], len(rows), params.random_seed)
            silhouette = null_if_nan(scores["silhouette"])
        quality[f"{split}_silhouette"] = silhouette
        msd = mean_squared_distance.get(split)
        quality[f"{split}_mean_squared_distance"] = None if msd is None else null_if_nan(float(msd))
    return quality


def calibrated(model: SegmentModel, reduced_train: np.ndarray, params: SegmentationParams) -> SegmentModel:
    """``model`` (with its final centroids) with its segment radii and atypical threshold,
    calibrated on the fit's sample of train customers (``reduced_train``)."""
    model = replace(model, segment_radii=segment_radii(model, reduced_train))
    return replace(model, atypical_threshold=atypical_threshold(model, reduced_train, params.contamination))


def fit_sample_size(params: SegmentationParams) -> int:
    """How many train customers the fit reads: var kmeans_sample_size, at least k."""
    return max(params.kmeans_sample_size, params.n_segments or 1)


def kept_features(
    features: Engine, params: SegmentationParams, clustering_features: Sequence[str] | Mapping[str, str]
) -> tuple[list[str], int, int, str]:
    """Steps 1 and 2: the ``clustering_features`` that vary on the train split, the split
    sizes and the train fingerprint; stops with the counts when the data cannot be fitted."""
    clustering_features = list(clustering_features)
    check_feature_columns(features.columns(), clustering_features)
    summary = features.summary(clustering_features)
    check_finite_counts(summary.not_finite)
    check_fit_size(max(params.n_segments or 2, 2), summary.train_customer_count)
    varies = varying_by_range(summary.train_ranges, clustering_features)
    names = [name for name, keep in zip(clustering_features, varies, strict=True) if keep]
    return names, summary.train_customer_count, summary.test_customer_count, summary.train_fingerprint


def fit_version(
    features: Engine,
    params: SegmentationParams,
    registry: pd.DataFrame,
    naming_rules: pd.DataFrame,
    clustering_features: Mapping[str, str],
) -> pa.Table:
    """Fit a new model version on the ``clustering_features`` of the train split of
    ``features`` (the ``segmentation_features`` model's list: each feature's name and its
    declared transform, ``log`` or ``none``); its registry row.

    ``registry`` holds the versions stored so far (possibly none): the new version takes
    the next id, and its segment ids are matched to the latest stored version's.
    """
    names, n_train, n_test, fingerprint = kept_features(features, params, clustering_features)
    sample = features.sample(names, fit_sample_size(params), params.random_seed, split="train")
    train = sample[names].to_numpy(dtype=np.float64)
    del sample
    reduction = fit_reduction(train, params, log_columns=log_columns(names, clustering_features))
    model = model_from_reduction(reduction, names, params.reducer)
    reduced_train = model.reduce(train)
    logger.info(
        f"reducer {params.reducer}: {len(names)} features -> {reduced_train.shape[1]} dimensions, fitted on "
        f"{len(reduced_train):,} of {n_train:,} train customers"
    )

    elbow = elbow_curve(reduced_train, params)
    n_segments = selected_n_segments(elbow)
    check_fit_size(n_segments, len(reduced_train))
    kmeans_centroids = fit_kmeans(reduced_train, n_segments, N_INIT, params.random_seed)
    logger.info(f"k-means k={n_segments}: fitted on {len(reduced_train):,} of {n_train:,} train customers")

    labels = label_statistics(features, model.with_centroids(kmeans_centroids))
    ids, matched_to = number_segments(labels.profiles, labels.sizes, kmeans_centroids, model, registry)
    model = calibrated(model.with_centroids(reorder_by_id(kmeans_centroids, ids)), reduced_train, params)
    sample_ids = model.assign(reduced_train)[0]
    del reduced_train
    medians = segment_feature_medians(train, sample_ids, n_segments)
    reference = reference_bins(train, names)
    del train  # the copies of the train rows go as soon as they are used: peak memory
    profiles = reorder_by_id(labels.profiles, ids)
    return registry_row(
        FittedVersion(
            model=model,
            params=params,
            elbow=elbow,
            named=name_segments(profiles, names, naming_rules, clustering_features),
            profiles=profiles,
            train_counts=reorder_by_id(labels.sizes, ids),
            train_customer_count=n_train,
            test_customer_count=n_test,
            train_fingerprint=fingerprint,
            ids_matched_to_version=matched_to,
            quality=split_quality(features, model, params, labels.mean_squared_distance),
            segment_feature_medians=medians,
            reference_bins=reference,
        ),
        registry,
    )


def update_registry(
    features: Engine,
    params: SegmentationParams,
    registry: pd.DataFrame,
    naming_rules: pd.DataFrame,
    clustering_features: Mapping[str, str],
) -> pa.Table:
    """The rows ``segmentation_models`` appends this build: a new version when var refit
    is true; none when it is false (after checking the version to score with exists) or
    when there are no customers (``dbt build --empty``)."""
    if features.is_empty():
        return REGISTRY_SCHEMA.empty_table()
    if not params.refit:
        version = version_in_use(registry, params.model_version)
        logger.info(f"refit false: nothing fitted; customers are scored with stored model version {version}")
        return REGISTRY_SCHEMA.empty_table()
    return fit_version(features, params, registry, naming_rules, clustering_features)
