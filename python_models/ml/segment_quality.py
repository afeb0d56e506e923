"""segment_quality: per segment and split, how crisp or fuzzy the segment is.

Counts and distances over every customer (computed by the database); the silhouette on
a seeded sample.
"""

from segmentation.fit.diagnostics import segment_quality_by_split, segmented_source
from segmentation.params import SegmentationParams
from segmentation.relations import is_spark_frame, model_result, read_segmented_customers


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    reduced, segments = dbt.ref("customer_features_reduced"), dbt.ref("customer_segments")
    if is_spark_frame(reduced):  # Spark: collected, then measured by an in-memory DuckDB
        segmented = read_segmented_customers(reduced, segments)
    else:
        segmented = segmented_source(reduced, segments)
    return model_result(session, segment_quality_by_split(segmented, params, session))
