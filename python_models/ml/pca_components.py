"""pca_components: explained variance and loadings of each principal component."""

from segmentation.columns import CLUSTERING_FEATURES
from segmentation.diagnostics import pca_components
from segmentation.params import SegmentationParams
from segmentation.relations import relation_to_frame


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    features = relation_to_frame(
        dbt.ref("int_customer_features_engineered"),
        columns=["customer_id", "split", *CLUSTERING_FEATURES],
        order_by="customer_id",
    )
    return pca_components(features, params)
