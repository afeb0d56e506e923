"""segment_quality: per segment and split, how crisp or fuzzy the segment is.

Counts and distances over every customer (computed by the database); the silhouette on
a seeded sample.
"""

from segmentation import dbt_models


def model(dbt, session):
    dbt.config(materialized="table")
    return dbt_models.segment_quality(
        session,
        config=dbt.config.get("segmentation_params"),
        reduced=dbt.ref("customer_features_reduced"),
        segments=dbt.ref("customer_segments"),
    )
