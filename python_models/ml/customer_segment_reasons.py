"""customer_segment_reasons: why each customer is in its segment and not the runner-up.

Up to three rows per customer: the engineered features that pull it most towards its own
segment's centroid rather than the runner-up's, with a sentence quoting the segment
medians (segmentation/scoring/explanations.py). SQL rendered from the version in use,
run by the database.
"""

from segmentation import dbt_models


def model(dbt, session):
    dbt.config(materialized="table")
    return dbt_models.customer_segment_reasons(
        session,
        config=dbt.config.get("segmentation_params"),
        features=dbt.ref("int_customer_features_engineered"),
        segments=dbt.ref("customer_segments"),
        registry=dbt.ref("segmentation_models"),
        clustering_features=dbt.ref("segmentation_features"),
    )
