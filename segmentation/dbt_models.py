"""The dbt Python models' entry points: one function per model in ``python_models/``.

A model file reads its refs and config (dbt finds them by reading the file, so they stay
there, as literal ``dbt.ref("...")`` and ``dbt.config.get("...")`` calls) and returns
what its function here returns. Each function wraps the relations in the engine they
came from (:func:`segmentation.engines.engine_for`: DuckDB on dbt-duckdb, Spark on
dbt-spark or Databricks), calls one procedure of the package, and returns a relation the
engine materialises, or an Arrow table in the engine's result type. No model branches on
the engine.

dbt-duckdb runs the Python models in dbt's own process, two at a time (threads: 2). Two
threads importing SciPy for the first time at once can see a partially initialised module
(SciPy's submodules import each other), which failed a build with "cannot import name
'PytestTester' from partially initialized module". Every Python model imports this module
first, and Python lets one thread at a time run a module's body (the other waits for it),
so the scientific libraries the models use are imported here, once, before any model code
runs. TensorFlow is not among them: a PCA build never imports it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import scipy.optimize  # noqa: F401
import sklearn.cluster
import sklearn.decomposition
import sklearn.metrics
import sklearn.pipeline
import sklearn.preprocessing  # noqa: F401

from segmentation.engines import engine_for
from segmentation.evaluation.drift import feature_drift as _feature_drift
from segmentation.evaluation.metrics import segmentation_metrics as _segmentation_metrics
from segmentation.evaluation.quality import segment_quality_by_split
from segmentation.fit.diagnostics import PCA_COMPONENTS_SCHEMA
from segmentation.fit.diagnostics import feature_transform_comparison as _feature_transform_comparison
from segmentation.fit.diagnostics import pca_components as _pca_components
from segmentation.fit.diagnostics import reducer_comparison as _reducer_comparison
from segmentation.fit.procedure import update_registry
from segmentation.fit.steps import selected_n_segments
from segmentation.params import SegmentationParams
from segmentation.scoring.registry import (
    REGISTRY_SCHEMA,
    model_in_use,
    read_registry,
    reducer_in_use,
    version_in_use,
)
from segmentation.scoring.tables import reduced_relation, scored_customers, scoring_sql_table, segments_relation
from segmentation.scoring.transitions import segment_transitions as _segment_transitions
from segmentation.serving.exports import export_folders, export_marts
from segmentation.serving.publish.faults import fault_point


def _registry(relation: Any, session: Any) -> pd.DataFrame:
    return read_registry(engine_for(relation, session).arrow())


def _frame(relation: Any, session: Any) -> pd.DataFrame:
    return engine_for(relation, session).arrow().to_pandas()


def _clustering_features(relation: Any, session: Any) -> dict[str, str]:
    """The clustering features, in order, from the ``segmentation_features`` model: each
    feature's name and its declared transform (``log`` or ``none``)."""
    listed = engine_for(relation, session).arrow(order_by="feature_position")
    names, transforms = listed.column("feature").to_pylist(), listed.column("transform").to_pylist()
    return {str(name): str(transform) for name, transform in zip(names, transforms, strict=True)}


def segmentation_models(
    session: Any, config: Any, features: Any, clustering_features: Any, naming_rules: Any, stored: Any | None
) -> Any:
    """The rows the registry appends: a new version fitted on ``features`` with var
    refit true, none otherwise. ``stored`` is the registry table so far (None on the
    first build)."""
    engine = engine_for(features, session)
    registry = _registry(stored, session) if stored is not None else read_registry(REGISTRY_SCHEMA.empty_table())
    params = SegmentationParams.from_config(config)
    rules = _frame(naming_rules, session)
    listed = _clustering_features(clustering_features, session)
    return engine.result(update_registry(engine, params, registry, rules, listed))


def customer_features_reduced(session: Any, config: Any, features: Any, registry: Any) -> Any:
    """Every customer's reduced coordinates under the version in use."""
    params = SegmentationParams.from_config(config)
    return reduced_relation(engine_for(features, session), _registry(registry, session), params)


def customer_segments(session: Any, config: Any, reduced: Any, registry: Any) -> Any:
    """Every customer's segment under the version in use."""
    params = SegmentationParams.from_config(config)
    return segments_relation(engine_for(reduced, session), _registry(registry, session), params)


def _feature_units(relation: Any, session: Any) -> dict[str, str]:
    """Each clustering feature's declared unit, from the ``segmentation_features`` model."""
    listed = engine_for(relation, session).arrow()
    return dict(zip(listed.column("feature").to_pylist(), listed.column("unit").to_pylist(), strict=True))


def model_scoring_sql(session: Any, registry: Any, clustering_features: Any) -> Any:
    """Per stored version, the SQL that scores customers with it, and the SQL that
    explains their segments."""
    engine = engine_for(registry, session)
    units = _feature_units(clustering_features, session)
    return engine.result(scoring_sql_table(read_registry(engine.arrow()), units))


def pca_components(session: Any, config: Any, features: Any, registry: Any) -> Any:
    """Explained variance and loadings of each principal component of the version in use."""
    engine = engine_for(features, session)
    params = SegmentationParams.from_config(config)
    stored = _registry(registry, session)
    if stored.empty:  # dbt build --empty: nothing fitted
        return engine.result(PCA_COMPONENTS_SCHEMA.empty_table())
    return engine.result(_pca_components(engine, params, model_in_use(stored, params)[1]))


def _comparison(compare: Any, session: Any, config: Any, features: Any, clustering_features: Any, elbow: Any) -> Any:
    """A comparison table at the selected k: ``compare(engine, params, k, features)``."""
    engine = engine_for(features, session)
    params = SegmentationParams.from_config(config)
    n_segments = selected_n_segments(_frame(elbow, session))
    listed = _clustering_features(clustering_features, session)
    return engine.result(compare(engine, params, n_segments, listed))


def reducer_comparison(session: Any, config: Any, features: Any, clustering_features: Any, elbow: Any) -> Any:
    """none vs PCA vs autoencoder at one size, measured on the test split."""
    return _comparison(_reducer_comparison, session, config, features, clustering_features, elbow)


def feature_transform_comparison(session: Any, config: Any, features: Any, clustering_features: Any, elbow: Any) -> Any:
    """Every var feature_transform value measured by label-free criteria on the test split."""
    return _comparison(_feature_transform_comparison, session, config, features, clustering_features, elbow)


def segmentation_metrics(session: Any, config: Any, reduced: Any, elbow: Any, quality: Any, registry: Any) -> Any:
    """One row for the build: its parameters and train/test quality (sizes and inertia
    from ``segment_quality``, which measured every customer)."""
    params = SegmentationParams.from_config(config)
    stored = _registry(registry, session)
    segmented = scored_customers(engine_for(reduced, session), stored, params)
    reducer = reducer_in_use(stored, params)
    version = None if stored.empty else version_in_use(stored, params.model_version)
    return segmented.result(
        _segmentation_metrics(segmented, _frame(elbow, session), _frame(quality, session), params, reducer, version)
    )


def segment_quality(session: Any, config: Any, reduced: Any, registry: Any) -> Any:
    """Per segment and split: how crisp or fuzzy the segment is."""
    params = SegmentationParams.from_config(config)
    segmented = scored_customers(engine_for(reduced, session), _registry(registry, session), params)
    return segmented.result(segment_quality_by_split(segmented, params))


def feature_drift(session: Any, config: Any, features: Any, registry: Any) -> Any:
    """Per clustering feature, today's customers against the version's train reference."""
    engine = engine_for(features, session)
    params = SegmentationParams.from_config(config)
    return engine.result(_feature_drift(engine, _registry(registry, session), params))


def segment_transitions(session: Any, features: Any, registry: Any) -> Any:
    """How current customers move between the two latest model versions."""
    engine = engine_for(features, session)
    return engine.result(_segment_transitions(engine, _registry(registry, session)))


def bi_exports(session: Any, export_path: str, marts: dict[str, Any]) -> Any:
    """The BI marts written as Parquet files into the build workspace's staging folder;
    the publish step moves them to where ``export_path`` points (empty: the warehouse's own
    folder beside it; outside a build workspace, straight into ``export_path``)."""
    staged, published = export_folders(session, export_path)
    fault_point("exports")
    return export_marts(marts, staged, published_folder=published)
