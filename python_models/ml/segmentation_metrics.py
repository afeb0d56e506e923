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
    versions = relation_to_frame(dbt.ref("segmentation_models"), columns=["model_version", "reducer"])
    reducer = dict(zip(versions["model_version"], versions["reducer"], strict=True))
    version = int(segments["model_version"].iloc[0]) if not segments.empty else None
    return segmentation_metrics(reduced, segments, elbow, params, reducer.get(version, params.reducer))
