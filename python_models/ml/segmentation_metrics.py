"""segmentation_metrics: one row for the build, its parameters and train/test quality.

Sizes and inertia over every customer (computed by the database); the other scores on
seeded samples of each split.
"""

from segmentation.fit.diagnostics import segmentation_metrics, segmented_source
from segmentation.params import SegmentationParams
from segmentation.relations import is_spark_frame, model_result, read_segmented_customers, relation_to_frame


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    reduced, segments = dbt.ref("customer_features_reduced"), dbt.ref("customer_segments")
    if is_spark_frame(reduced):  # Spark: collected, then measured by an in-memory DuckDB
        segmented = read_segmented_customers(reduced, segments)
    else:
        segmented = segmented_source(reduced, segments)
    elbow = relation_to_frame(dbt.ref("segment_elbow"))
    versions = relation_to_frame(dbt.ref("segmentation_models"), columns=["model_version", "reducer"])
    reducer = dict(zip(versions["model_version"], versions["reducer"], strict=True))
    in_use = versions["model_version"].max() if params.model_version is None else params.model_version
    return model_result(
        session, segmentation_metrics(segmented, elbow, params, reducer.get(in_use, params.reducer), session)
    )
