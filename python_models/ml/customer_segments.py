"""customer_segments: the segment of every clean customer.

Fits k-means, with the k marked is_selected in segment_elbow, on the reduced train
customers and assigns every customer; see segmentation/pipeline.py for the numbering rule.
"""

from segmentation.params import SegmentationParams
from segmentation.pipeline import segment_customers, selected_n_segments
from segmentation.relations import relation_to_frame


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    reduced = relation_to_frame(dbt.ref("customer_features_reduced"), order_by="customer_id")
    n_segments = selected_n_segments(relation_to_frame(dbt.ref("segment_elbow")))
    segments, _ = segment_customers(reduced, n_segments, params.random_seed)
    return segments
