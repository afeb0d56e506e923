"""feature_transform_comparison: every var feature_transform value, measured on the test split.

Built by refitting builds with var compare_feature_transforms true (off by default). Fitted and
measured on seeded samples of at most elbow_sample_size (and 10,000) train and test
customers.
"""

from segmentation import dbt_models


def model(dbt, session):
    dbt.config(materialized="table")
    return dbt_models.feature_transform_comparison(
        session,
        config=dbt.config.get("segmentation_params"),
        features=dbt.ref("int_customer_features_engineered"),
        clustering_features=dbt.ref("segmentation_features"),
        elbow=dbt.ref("segment_elbow"),
    )
