"""segment_quality: per segment and split, how crisp or fuzzy the segment is."""

from segmentation.diagnostics import segment_quality_by_split
from segmentation.params import SegmentationParams
from segmentation.relations import model_result, read_segmented_customers


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    segmented = read_segmented_customers(dbt.ref("customer_features_reduced"), dbt.ref("customer_segments"))
    return model_result(session, segment_quality_by_split(segmented, params))
