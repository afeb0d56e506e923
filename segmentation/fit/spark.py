"""The Spark path of the Python models: the same segment model, fitted with Spark MLlib.

On Databricks (dbt-spark or dbt-databricks), ``dbt.ref()`` in a Python model returns a
PySpark DataFrame and the model returns one. The models that touch every customer branch
here when their input is a Spark DataFrame, so the data never has to fit on the driver:

* ``segmentation_models`` (:func:`fit_version_spark`): MLlib's ``StandardScaler`` with
  scikit-learn's semantics (``withMean=True``, and MLlib's sample standard deviation
  turned into the population one scikit-learn divides by), MLlib ``PCA`` (or the
  autoencoder, trained on a seeded sample collected to the driver), the elbow curve and
  the final fit with MLlib ``KMeans``; then the same numbering, naming and registry row as
  the DuckDB path (:func:`segmentation.fit.version_row.registry_row`). The registry stores the
  fitted arrays, as on DuckDB, so either engine can score with a version either fitted.
* ``customer_features_reduced`` and ``customer_segments`` (:func:`reduce_frame`,
  :func:`segment_frame`): every customer is reduced and assigned on the executors by the
  same SQL as on DuckDB, rendered from the registry's arrays
  (:mod:`segmentation.scoring.sql`: plain arithmetic both engines run unchanged), so a
  stored version scores identically on both engines and ``refit: false`` works the same.

The other Python models read small tables, or the joined segments, through
:mod:`segmentation.relations`, which collects a Spark DataFrame to the driver as Arrow.

Differences from the DuckDB path, all in the fit: MLlib's k-means (k-means|| start, the
same ``N_INIT`` restarts for the final fit, ``SPARK_ELBOW_N_INIT`` for each k of the
elbow curve) finds the same segments up to small differences at the boundaries (the
parity test asks for an adjusted Rand index of at least 0.95 on the public data set);
Spark's seeded samples take each customer by a hash of customer_id and the seed, so
they hold about the requested number of customers (not exactly, as numpy's do); PCA components
are turned to scikit-learn's sign convention; and the training data's fingerprint is a
hash of the rows computed by Spark (equal for equal data on Spark, not comparable with a
DuckDB build's).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.columns import CLUSTERING_FEATURES
from segmentation.fit.elbow import elbow_ks, finish_elbow_curve
from segmentation.fit.metrics import clustering_scores
from segmentation.fit.naming import name_segments
from segmentation.fit.pipeline import N_INIT, check_fit_size, varying_by_range
from segmentation.fit.reducers import check_n_dimensions, components_kept, make_reducer, reducer_layers
from segmentation.fit.segment_ids import reorder_by_id
from segmentation.fit.version_row import FittedVersion, null_if_nan, number_segments, registry_row, unnamed_segments
from segmentation.log import logger
from segmentation.params import SegmentationParams
from segmentation.relations import spark_to_arrow
from segmentation.scoring.model import (
    COMPONENT_PREFIX,
    DenseLayer,
    SegmentationError,
    SegmentModel,
    check_feature_columns,
    check_finite_counts,
)
from segmentation.scoring.spark import reduce_frame, segment_frame

#: MLlib k-means restarts of each k of the elbow curve (the final fit makes N_INIT, as on
#: DuckDB): each restart is a few Spark jobs per iteration, and the curve only picks k.
SPARK_ELBOW_N_INIT = 1


_VECTOR = "vector"


#: Resolution of the hash samples: a share is rounded to 1 / _SAMPLE_BUCKETS.
_SAMPLE_BUCKETS = 1_000_000


def _sample(frame: Any, n_rows: int, sample_size: int, seed: int) -> Any:
    """A seeded sample of about ``sample_size`` of the ``n_rows`` rows (all of them when
    there are no more), decided for each customer by a hash of customer_id and the seed:
    the same customers whatever the partitioning of the data or the size of the cluster."""
    from pyspark.sql import functions as F  # noqa: N812

    if n_rows <= sample_size:
        return frame
    bucket = F.pmod(F.xxhash64(F.col("customer_id"), F.lit(seed)), F.lit(_SAMPLE_BUCKETS))
    return frame.where(bucket < F.lit(round(sample_size / n_rows * _SAMPLE_BUCKETS)))


def _collect_matrix(frame: Any, columns: Sequence[str]) -> np.ndarray:
    """The ``columns`` of a (small) Spark DataFrame on the driver, rows sorted by customer_id."""
    collected = spark_to_arrow(frame, ["customer_id", *columns], order_by="customer_id").to_pandas()
    return collected[list(columns)].to_numpy(dtype=np.float64)


def _check_features(features: Any) -> None:
    from pyspark.sql import functions as F  # noqa: N812 (PySpark's convention)

    check_feature_columns(features.columns)
    not_finite = features.agg(
        *[
            F.sum(F.when(F.col(name).isNull() | F.isnan(name) | (F.abs(name) == float("inf")), 1).otherwise(0)).alias(
                name
            )
            for name in CLUSTERING_FEATURES
        ]
    ).first()
    check_finite_counts({name: not_finite[name] or 0 for name in CLUSTERING_FEATURES})


def _scaled(frame: Any, model: SegmentModel) -> Any:
    """``frame`` with the standardised features of ``model`` as the vector column."""
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F  # noqa: N812

    scaled = frame.select(
        *[
            ((F.col(name) - float(mean)) / float(scale)).alias(name)
            for name, mean, scale in zip(model.features, model.scaler_mean, model.scaler_scale, strict=True)
        ]
    )
    return VectorAssembler(inputCols=list(model.features), outputCol=_VECTOR).transform(scaled)


def fit_scaler_spark(train: Any, names: Sequence[str], n_train: int, reducer: str) -> SegmentModel:
    """MLlib ``StandardScaler`` with scikit-learn's semantics: centred, and divided by the
    population standard deviation (MLlib gives the sample one: times sqrt((n - 1) / n));
    a constant feature keeps scale 1, as in scikit-learn."""
    from pyspark.ml.feature import StandardScaler, VectorAssembler

    assembled = VectorAssembler(inputCols=list(names), outputCol="raw_" + _VECTOR).transform(train)
    scaler = StandardScaler(withMean=True, withStd=True, inputCol="raw_" + _VECTOR, outputCol=_VECTOR).fit(assembled)
    scale = scaler.std.toArray() * np.sqrt((n_train - 1) / n_train) if n_train > 1 else np.ones(len(names))
    scale[scale == 0] = 1.0
    return SegmentModel(tuple(names), scaler.mean.toArray().astype(np.float64), scale, reducer, ())


def sklearn_signs(components: np.ndarray) -> np.ndarray:
    """Components (one per column) with scikit-learn's sign convention: the entry of
    largest magnitude of each component is positive."""
    largest = components[np.argmax(np.abs(components), axis=0), np.arange(components.shape[1])]
    return components * np.where(largest < 0, -1.0, 1.0)


def fit_reducer_spark(train: Any, model: SegmentModel, params: SegmentationParams, n_train: int) -> SegmentModel:
    """``model`` with its reducer's layers: MLlib PCA (all components, then as many as var
    n_components keeps by scikit-learn's rule), or the autoencoder trained on a seeded
    sample of the scaled train rows collected to the driver; none has no layer."""
    from pyspark.ml.feature import PCA

    n_features = len(model.features)
    if params.reducer == "none":
        return model
    scaled = _scaled(train, model)
    pca = PCA(k=n_features, inputCol=_VECTOR, outputCol="pca_" + _VECTOR).fit(scaled)
    n_dimensions = components_kept(pca.explainedVariance.toArray(), params.n_components)
    # A count is checked as asked, before components_kept caps it at the features.
    asked = params.n_components if isinstance(params.n_components, int) else n_dimensions
    check_n_dimensions(asked, n_train, n_features, params)
    if params.reducer == "pca":
        # MLlib projects without centring; the scaled train rows have mean 0, so no bias.
        kernel = sklearn_signs(pca.pc.toArray()[:, :n_dimensions])
        layers: tuple[DenseLayer, ...] = (DenseLayer(kernel, np.zeros(n_dimensions)),)
    else:
        sample = _sample(train, n_train, params.autoencoder_sample_size, params.random_seed)
        values = _collect_matrix(sample, model.features)
        autoencoder = make_reducer("autoencoder", n_dimensions, params).fit(model.scale(values))
        layers = reducer_layers(autoencoder, "autoencoder")
    return SegmentModel(model.features, model.scaler_mean, model.scaler_scale, model.reducer, layers)


def _kmeans(vectors: Any, k: int, seed: int, n_init: int) -> tuple[np.ndarray, float]:
    """MLlib k-means: the centres and training cost (inertia) of the best of ``n_init``
    seeded restarts."""
    from pyspark.ml.clustering import KMeans

    best: tuple[np.ndarray, float] | None = None
    for restart in range(n_init):
        fitted = KMeans(k=k, seed=seed + restart, maxIter=300, tol=1e-4, featuresCol=_VECTOR).fit(vectors)
        cost = float(fitted.summary.trainingCost)
        if best is None or cost < best[1]:
            best = (np.array(fitted.clusterCenters(), dtype=np.float64), cost)
    assert best is not None
    return best


def _nearest(values: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return np.argmin(((values[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)


def _vectors(frame: Any, columns: Sequence[str]) -> Any:
    from pyspark.ml.feature import VectorAssembler

    return VectorAssembler(inputCols=list(columns), outputCol=_VECTOR).transform(frame)


def elbow_curve_spark(reduced_train: Any, n_train: int, params: SegmentationParams) -> pd.DataFrame:
    """The elbow table of :func:`segmentation.fit.elbow.elbow_curve`, with MLlib k-means on a
    seeded sample of about ``elbow_sample_size`` train rows; the clustering scores of each
    k's labels are computed on the sample collected to the driver."""
    components = [name for name in reduced_train.columns if name.startswith(COMPONENT_PREFIX)]
    sample = _sample(reduced_train, n_train, params.elbow_sample_size, params.random_seed).cache()
    values = _collect_matrix(sample, components)
    vectors = _vectors(sample, components).cache()
    rows = []
    ks = elbow_ks(params, len(values))
    for k in ks:
        if k == 1:  # MLlib needs k >= 2; one centre is the mean.
            labels, cost = np.zeros(len(values), dtype=np.int64), float(((values - values.mean(axis=0)) ** 2).sum())
        else:
            centres, cost = _kmeans(vectors, int(k), params.random_seed, SPARK_ELBOW_N_INIT)
            labels = _nearest(values, centres)
        scores = clustering_scores(values, labels, params.silhouette_sample_size, params.random_seed)
        rows.append({"k": int(k), "inertia": cost, **scores})
        logger.info(f"elbow k={k}/{ks[-1]} (Spark MLlib): inertia {cost:,.1f}, silhouette {scores['silhouette']:.3f}")
    vectors.unpersist()
    sample.unpersist()
    return finish_elbow_curve(rows, params, len(values))


def _train_fingerprint(train: Any, names: Sequence[str]) -> str:
    """A hash of the train rows computed by Spark, independent of their order."""
    from pyspark.sql import functions as F  # noqa: N812

    total = train.select(
        F.sum(F.xxhash64("customer_id", *names).cast("decimal(38,0)")).alias("hash_sum"), F.count("*").alias("rows")
    ).first()
    return hashlib.sha256(f"{total['hash_sum']}:{total['rows']}".encode()).hexdigest()


def _split_quality_spark(reduced: Any, model: SegmentModel, params: SegmentationParams) -> dict[str, float | None]:
    """Silhouette on a seeded sample of about ``silhouette_sample_size`` rows of each
    split (collected to the driver) and the mean squared distance to the centroid over
    every row (on the executors)."""
    from pyspark.sql import functions as F  # noqa: N812

    segments = segment_frame(reduced, model, 0, unnamed_segments(model.n_segments))
    stats = {
        row["split"]: row
        for row in segments.groupBy("split")
        .agg(F.count("*").alias("rows"), F.avg(F.col("distance_to_centroid") ** 2).alias("msd"))
        .collect()
    }
    components = [name for name in reduced.columns if name.startswith(COMPONENT_PREFIX)]
    quality: dict[str, float | None] = {}
    for split in ("train", "test"):
        found = stats.get(split)
        quality[f"{split}_mean_squared_distance"] = float(found["msd"]) if found else None
        quality[f"{split}_silhouette"] = None
        if found:
            rows = reduced.where(F.col("split") == split)
            values = _collect_matrix(
                _sample(rows, found["rows"], params.silhouette_sample_size, params.random_seed), components
            )
            silhouette = clustering_scores(values, model.assign(values)[0], len(values), params.random_seed)
            quality[f"{split}_silhouette"] = null_if_nan(silhouette["silhouette"])
    return quality


def fit_version_spark(
    features: Any, params: SegmentationParams, registry: pd.DataFrame, naming_rules: pd.DataFrame
) -> pa.Table:
    """:func:`segmentation.fit.versions.fit_version` on a Spark DataFrame of the features:
    the new version's registry row, fitted with Spark MLlib on the train split."""
    from pyspark.sql import functions as F  # noqa: N812

    _check_features(features)
    features = features.select("customer_id", "split", *CLUSTERING_FEATURES)
    train = features.where(F.col("split") == "train").cache()
    counts = {row["split"]: row["count"] for row in features.groupBy("split").count().collect()}
    n_train, n_test = int(counts.get("train", 0)), int(counts.get("test", 0))
    check_fit_size(max(params.n_segments or 2, 2), n_train)
    ranges = train.agg(*[(F.max(name) - F.min(name)).alias(name) for name in CLUSTERING_FEATURES]).first()
    varies = varying_by_range(np.array([ranges[name] for name in CLUSTERING_FEATURES], dtype=np.float64))
    names = [name for name, keep in zip(CLUSTERING_FEATURES, varies, strict=True) if keep]

    model = fit_reducer_spark(train, fit_scaler_spark(train, names, n_train, params.reducer), params, n_train)
    reduced = reduce_frame(features, model).cache()
    reduced_train = reduced.where(F.col("split") == "train")
    components = [name for name in reduced.columns if name.startswith(COMPONENT_PREFIX)]
    logger.info(
        f"reducer {params.reducer} (Spark MLlib): {len(names)} features -> {len(components)} dimensions, "
        f"fitted on {n_train:,} train customers"
    )

    elbow = elbow_curve_spark(reduced_train, n_train, params)
    n_segments = int(elbow.loc[elbow["is_selected"], "k"].iloc[0])
    check_fit_size(n_segments, n_train)
    kmeans_rows = _sample(reduced_train, n_train, max(params.kmeans_sample_size, n_segments), params.random_seed)
    if n_segments == 1:  # MLlib needs k >= 2; one centre is the mean.
        means = kmeans_rows.agg(*[F.avg(name).alias(name) for name in components]).first()
        centroids = np.array([[means[name] for name in components]], dtype=np.float64)
    else:
        centroids, _ = _kmeans(_vectors(kmeans_rows, components), n_segments, params.random_seed, N_INIT)
        if len(centroids) != n_segments:  # MLlib returns fewer centres than distinct points
            raise SegmentationError(
                f"k-means found {len(centroids)} distinct centres for n_segments={n_segments}: these customers "
                "have fewer distinct feature values than segments. Ask for fewer segments or load more customers."
            )
    sampled = (
        "every train customer"
        if n_train <= params.kmeans_sample_size
        else f"a sample of about {params.kmeans_sample_size:,} train customers"
    )
    logger.info(f"k-means k={n_segments} (Spark MLlib): fitted on {sampled}")

    # Train size and mean real feature values of each k-means label.
    labelled = segment_frame(reduced_train, model.with_centroids(centroids), 0, unnamed_segments(n_segments))
    by_label = (
        labelled.select("customer_id", (F.col("segment_id") - 1).alias("label"))
        .join(train, "customer_id")
        .groupBy("label")
        .agg(F.count("*").alias("train_customers"), *[F.avg(name).alias(name) for name in names])
    )
    stats = spark_to_arrow(by_label, order_by="label").to_pandas().set_index("label").reindex(range(n_segments))
    sizes = stats["train_customers"].fillna(0).to_numpy(dtype=np.int64)
    profiles = (stats[names].to_numpy(dtype=np.float64) - model.scaler_mean) / model.scaler_scale

    ids, matched_to = number_segments(profiles, sizes, centroids, model, registry)
    model = model.with_centroids(reorder_by_id(centroids, ids))
    profiles = reorder_by_id(profiles, ids)
    fitted = FittedVersion(
        model=model,
        params=params,
        elbow=elbow,
        named=name_segments(profiles, names, naming_rules),
        profiles=profiles,
        train_counts=reorder_by_id(sizes, ids),
        train_customer_count=n_train,
        test_customer_count=n_test,
        train_fingerprint=_train_fingerprint(train, names),
        ids_matched_to_version=matched_to,
        quality=_split_quality_spark(reduced, model, params),
    )
    reduced.unpersist()
    train.unpersist()
    return registry_row(fitted, registry)
