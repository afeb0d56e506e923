"""customer_segments: the segment of every clean customer under the model version in use.

Each customer goes to the nearest centroid of the version, by SQL rendered from the
version's centroids (segmentation/scoring/sql.py) that the database runs.
"""

from segmentation import dbt_models


def model(dbt, session):
    dbt.config(materialized="table")
    return dbt_models.customer_segments(
        session,
        config=dbt.config.get("segmentation_params"),
        reduced=dbt.ref("customer_features_reduced"),
        registry=dbt.ref("segmentation_models"),
    )
