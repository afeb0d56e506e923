"""pca_components: explained variance and loadings of each principal component.

Computed on the seeded sample of train customers the fit reads (var kmeans_sample_size).
"""

from segmentation.fit.diagnostics import PCA_COMPONENTS_SCHEMA, pca_components
from segmentation.params import SegmentationParams
from segmentation.relations import is_spark_frame, model_result, read_clustering_features, relation_to_arrow
from segmentation.scoring.registry import model_in_use, read_registry


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    features = dbt.ref("int_customer_features_engineered")
    if is_spark_frame(features):  # Spark: collected, then sampled by an in-memory DuckDB
        features = read_clustering_features(features)
    registry = read_registry(relation_to_arrow(dbt.ref("segmentation_models")))
    if registry.empty:  # dbt build --empty: nothing fitted
        return PCA_COMPONENTS_SCHEMA.empty_table()
    _, segment_model = model_in_use(registry, params)
    return model_result(session, pca_components(features, params, segment_model, session))
