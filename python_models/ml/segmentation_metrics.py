"""segmentation_metrics: one row for the build, its parameters and train/test quality.

Sizes and inertia over every customer (computed by the database); the other scores on
seeded samples of each split.
"""

from segmentation import dbt_models


def model(dbt, session):
    dbt.config(materialized="table")
    return dbt_models.segmentation_metrics(
        session,
        config=dbt.config.get("segmentation_params"),
        reduced=dbt.ref("customer_features_reduced"),
        segments=dbt.ref("customer_segments"),
        elbow=dbt.ref("segment_elbow"),
        registry=dbt.ref("segmentation_models"),
    )
