"""pca_components: explained variance and loadings of each principal component."""

from segmentation.diagnostics import PCA_COMPONENTS_SCHEMA, pca_components
from segmentation.params import SegmentationParams
from segmentation.registry import model_in_use, read_registry
from segmentation.relations import model_result, read_clustering_features, relation_to_arrow


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    features = read_clustering_features(dbt.ref("int_customer_features_engineered"))
    registry = read_registry(relation_to_arrow(dbt.ref("segmentation_models")))
    if features.empty:  # dbt build --empty
        return PCA_COMPONENTS_SCHEMA.empty_table()
    _, segment_model = model_in_use(registry, params)
    return model_result(session, pca_components(features, params, segment_model))
