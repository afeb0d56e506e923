"""Fit diagnostics: the PCA loadings and the reducer comparison.

Each function reads seeded samples of the engineered features through an engine and
returns the Arrow table of one dbt Python model (``pca_components``,
``reducer_comparison``). How good the build's segments are is the evaluation side's
(:mod:`segmentation.evaluation`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

from segmentation.engines import Engine
from segmentation.fit.procedure import fit_sample_size
from segmentation.fit.reducers import PCA_SOLVER, components_kept, fit_reduction
from segmentation.fit.scores import clustering_scores
from segmentation.fit.steps import N_INIT, usable_feature_matrix
from segmentation.log import logger
from segmentation.params import REDUCERS, SegmentationParams
from segmentation.scoring.model import SegmentModel
from segmentation.tables import frame_to_arrow

PCA_COMPONENTS_SCHEMA = pa.schema(
    [
        ("component", pa.int32()),
        ("feature", pa.string()),
        ("loading", pa.float64()),
        ("explained_variance_ratio", pa.float64()),
        ("cumulative_explained_variance_ratio", pa.float64()),
        ("is_kept", pa.bool_()),
    ]
)
REDUCER_COMPARISON_SCHEMA = pa.schema(
    [
        ("reducer", pa.string()),
        ("n_dimensions", pa.int32()),
        ("test_reconstruction_r2", pa.float64()),
        ("test_silhouette", pa.float64()),
        ("test_davies_bouldin", pa.float64()),
        ("fit_seconds", pa.float64()),
        ("is_selected_reducer", pa.bool_()),
    ]
)


def pca_components(features: Engine, params: SegmentationParams, model: SegmentModel) -> pa.Table:
    """One row per principal component and feature: the loading, and the component's
    explained and cumulative explained variance. The PCA is of the train features that
    ``model`` (the version this build fitted) clusters, standardised with its scaler, on
    the seeded sample of train customers the fit reads (at most ``kmeans_sample_size``;
    see :func:`segmentation.fit.procedure.fit_version`)."""
    if features.is_empty():
        return PCA_COMPONENTS_SCHEMA.empty_table()
    names = list(model.features)
    sample = features.sample(names, fit_sample_size(params), params.random_seed, split="train")
    scaled = model.scale(sample[names].to_numpy(dtype=np.float64))
    pca = PCA(svd_solver=PCA_SOLVER, random_state=params.random_seed).fit(scaled)
    kept = components_kept(pca.explained_variance_ratio_, params.n_components)
    n_components, n_features = pca.components_.shape
    component = np.repeat(np.arange(1, n_components + 1), n_features)
    table = pd.DataFrame(
        {
            "component": component.astype(np.int32),
            "feature": np.tile(np.asarray(names, dtype=object), n_components),
            "loading": pca.components_.ravel(),
            "explained_variance_ratio": np.repeat(pca.explained_variance_ratio_, n_features),
            "cumulative_explained_variance_ratio": np.repeat(np.cumsum(pca.explained_variance_ratio_), n_features),
            "is_kept": component <= kept,
        }
    )
    return frame_to_arrow(table, PCA_COMPONENTS_SCHEMA)


def reducer_comparison(
    features: Engine, params: SegmentationParams, n_segments: int, clustering_features: Sequence[str]
) -> pa.Table:
    """One row per reducer (none, pca, autoencoder) at the same size, measured on the test
    split in the scaled feature space, so that the rows compare: reconstruction R-squared,
    and silhouette and Davies-Bouldin of the k-means segments fitted on its train rows.
    Fitted on the fit's seeded sample of train customers and measured on a seeded sample
    of as many test customers (at most ``kmeans_sample_size`` each)."""
    if features.is_empty():
        return REDUCER_COMPARISON_SCHEMA.empty_table()
    samples = features.split_samples(clustering_features, fit_sample_size(params), params.random_seed)
    matrix, is_train, _ = usable_feature_matrix(samples, clustering_features)
    train, test = matrix[is_train], matrix[~is_train]
    rows = []
    for name in REDUCERS:
        started = time.perf_counter()
        reduction = fit_reduction(train, params, reducer=name)
        kmeans = KMeans(n_clusters=n_segments, n_init=N_INIT, random_state=params.random_seed)
        kmeans.fit(reduction.transform(train))
        fit_seconds = time.perf_counter() - started
        scaled_test = reduction.named_steps["scale"].transform(test)
        reduced_test = reduction.named_steps["reduce"].transform(scaled_test)
        rebuilt = reduction.named_steps["reduce"].inverse_transform(reduced_test)
        residual = ((scaled_test - rebuilt) ** 2).sum()
        total = ((scaled_test - scaled_test.mean(axis=0)) ** 2).sum()
        scores = clustering_scores(
            scaled_test, kmeans.predict(reduced_test), params.silhouette_sample_size, params.random_seed
        )
        rows.append(
            {
                "reducer": name,
                "n_dimensions": int(reduced_test.shape[1]),
                "test_reconstruction_r2": float(1 - residual / total) if total > 0 else np.nan,
                "test_silhouette": scores["silhouette"],
                "test_davies_bouldin": scores["davies_bouldin"],
                "fit_seconds": fit_seconds,
                "is_selected_reducer": name == params.reducer,
            }
        )
        logger.info(f"reducer comparison: {name} done in {fit_seconds:.1f} s")
    return frame_to_arrow(pd.DataFrame(rows), REDUCER_COMPARISON_SCHEMA)
