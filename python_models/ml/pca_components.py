"""pca_components: explained variance and loadings of each principal component.

Computed on the seeded sample of train customers the fit reads (var kmeans_sample_size).
"""

from segmentation import dbt_models


def model(dbt, session):
    dbt.config(materialized="table")
    return dbt_models.pca_components(
        session,
        config=dbt.config.get("segmentation_params"),
        features=dbt.ref("int_customer_features_engineered"),
        registry=dbt.ref("segmentation_models"),
    )
