"""reducer_comparison: none vs PCA vs autoencoder at one size, measured on the test split.

Built unless var compare_reducers is false (then a PCA build never imports TensorFlow).
"""

from segmentation.diagnostics import reducer_comparison
from segmentation.params import SegmentationParams
from segmentation.pipeline import selected_n_segments
from segmentation.relations import model_result, read_clustering_features, relation_to_frame


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    features = read_clustering_features(dbt.ref("int_customer_features_engineered"))
    n_segments = selected_n_segments(relation_to_frame(dbt.ref("segment_elbow")))
    return model_result(session, reducer_comparison(features, params, n_segments))
