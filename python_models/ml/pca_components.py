"""pca_components: explained variance and loadings of each principal component."""

from segmentation.diagnostics import pca_components
from segmentation.params import SegmentationParams
from segmentation.relations import read_clustering_features


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    features = read_clustering_features(dbt.ref("int_customer_features_engineered"))
    return pca_components(features, params)
