"""reducer_comparison: none vs PCA vs autoencoder at one size, measured on the test split.

Built unless var compare_reducers is false (then a PCA build never imports TensorFlow).
Fitted and measured on seeded samples of the train and test customers.
"""

from segmentation.fit.diagnostics import reducer_comparison
from segmentation.fit.pipeline import selected_n_segments
from segmentation.params import SegmentationParams
from segmentation.relations import is_spark_frame, model_result, read_clustering_features, relation_to_frame


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    features = dbt.ref("int_customer_features_engineered")
    if is_spark_frame(features):  # Spark: collected, then sampled by an in-memory DuckDB
        features = read_clustering_features(features)
    n_segments = selected_n_segments(relation_to_frame(dbt.ref("segment_elbow")))
    return model_result(session, reducer_comparison(features, params, n_segments, session))
