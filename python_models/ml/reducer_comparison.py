"""reducer_comparison: none vs PCA vs autoencoder at one size, measured on the test split.

Built unless var compare_reducers is false (then a PCA build never imports TensorFlow).
Fitted and measured on seeded samples of the train and test customers.
"""

from segmentation import dbt_models


def model(dbt, session):
    dbt.config(materialized="table")
    return dbt_models.reducer_comparison(
        session,
        config=dbt.config.get("segmentation_params"),
        features=dbt.ref("int_customer_features_engineered"),
        clustering_features=dbt.ref("segmentation_features"),
        elbow=dbt.ref("segment_elbow"),
    )
