"""segmentation_metrics: one row for the build, its parameters and train/test quality."""

from segmentation.diagnostics import segmentation_metrics
from segmentation.params import SegmentationParams
from segmentation.relations import relation_to_frame


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    reduced = relation_to_frame(dbt.ref("customer_features_reduced"), order_by="customer_id")
    segments = relation_to_frame(dbt.ref("customer_segments"), order_by="customer_id")
    elbow = relation_to_frame(dbt.ref("segment_elbow"))
    return segmentation_metrics(reduced, segments, elbow, params)
