"""segment_quality: per segment and split, how crisp or fuzzy the segment is.

Counts and distances over every customer (computed by the database, on the reduced
coordinates scored with the version in use: the segments of customer_segments, without
joining it); the silhouette on a seeded sample.
"""

from segmentation import dbt_models


def model(dbt, session):
    dbt.config(materialized="table")
    return dbt_models.segment_quality(
        session,
        config=dbt.config.get("segmentation_params"),
        reduced=dbt.ref("customer_features_reduced"),
        registry=dbt.ref("segmentation_models"),
    )
