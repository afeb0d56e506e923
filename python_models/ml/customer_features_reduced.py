"""customer_features_reduced: every customer's coordinates after scaling and the reducer.

Fits StandardScaler -> reducer (var reducer: pca, autoencoder or none) on the train split
of int_customer_features_engineered and reduces every customer.
"""

from segmentation.params import SegmentationParams
from segmentation.pipeline import reduce_customers
from segmentation.relations import read_clustering_features


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    features = read_clustering_features(dbt.ref("int_customer_features_engineered"))
    reduced, _ = reduce_customers(features, params)
    return reduced
