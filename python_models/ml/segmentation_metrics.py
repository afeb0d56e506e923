"""segmentation_metrics: one row for the build, its parameters and train/test quality."""

from segmentation.diagnostics import segmentation_metrics
from segmentation.params import SegmentationParams
from segmentation.relations import model_result, read_segmented_customers, relation_to_frame


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    segmented = read_segmented_customers(dbt.ref("customer_features_reduced"), dbt.ref("customer_segments"))
    elbow = relation_to_frame(dbt.ref("segment_elbow"))
    versions = relation_to_frame(dbt.ref("segmentation_models"), columns=["model_version", "reducer"])
    reducer = dict(zip(versions["model_version"], versions["reducer"], strict=True))
    version = int(segmented["model_version"].iloc[0]) if not segmented.empty else None
    return model_result(session, segmentation_metrics(segmented, elbow, params, reducer.get(version, params.reducer)))
