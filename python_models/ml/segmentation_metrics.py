"""segmentation_metrics: one row for the build, its parameters and train/test quality.

Sizes and inertia over every customer: segment_quality's, added up per split (one
measurement of every customer for both tables); the other scores on seeded samples of
the reduced coordinates scored with the version in use (the segments of
customer_segments, without joining it).
"""

from segmentation import dbt_models


def model(dbt, session):
    dbt.config(materialized="table")
    return dbt_models.segmentation_metrics(
        session,
        config=dbt.config.get("segmentation_params"),
        reduced=dbt.ref("customer_features_reduced"),
        elbow=dbt.ref("segment_elbow"),
        quality=dbt.ref("segment_quality"),
        registry=dbt.ref("segmentation_models"),
    )
