"""segment_transitions: how current customers move between the two latest model versions."""

from segmentation.registry import read_registry, segment_transitions
from segmentation.relations import model_result, read_clustering_features, relation_to_arrow


def model(dbt, session):
    dbt.config(materialized="table")
    features = read_clustering_features(dbt.ref("int_customer_features_engineered"), ordered=False)
    registry = read_registry(relation_to_arrow(dbt.ref("segmentation_models")))
    return model_result(session, segment_transitions(features, registry))
