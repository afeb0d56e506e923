"""segment_quality: per segment and split, how crisp or fuzzy the segment is."""

from segmentation.diagnostics import segment_quality_by_split
from segmentation.params import SegmentationParams
from segmentation.relations import relation_to_frame


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    reduced = relation_to_frame(dbt.ref("customer_features_reduced"), order_by="customer_id")
    segments = relation_to_frame(dbt.ref("customer_segments"), order_by="customer_id")
    return segment_quality_by_split(reduced, segments, params)
