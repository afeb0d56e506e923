"""reducer_comparison: none vs PCA vs autoencoder at one size, measured on the test split.

Built unless var compare_reducers is false (then a PCA build never imports TensorFlow).
"""

from segmentation.columns import CLUSTERING_FEATURES
from segmentation.diagnostics import reducer_comparison
from segmentation.params import SegmentationParams
from segmentation.pipeline import selected_n_segments
from segmentation.relations import relation_to_frame


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    features = relation_to_frame(
        dbt.ref("int_customer_features_engineered"),
        columns=["customer_id", "split", *CLUSTERING_FEATURES],
        order_by="customer_id",
    )
    n_segments = selected_n_segments(relation_to_frame(dbt.ref("segment_elbow")))
    return reducer_comparison(features, params, n_segments)
