"""segment_elbow: the elbow curve (k-means for k = 1..elbow_max_k), its knee, and the k in use."""

from segmentation.elbow import elbow_table
from segmentation.params import SegmentationParams
from segmentation.relations import relation_to_frame


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    reduced = relation_to_frame(dbt.ref("customer_features_reduced"), order_by="customer_id")
    return elbow_table(reduced, params)
