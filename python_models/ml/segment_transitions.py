"""segment_transitions: how current customers move between the two latest model versions.

Every customer is scored with both versions by the database (rendered SQL); only the
counts of each (from segment, to segment) pair reach Python.
"""

from segmentation.relations import is_spark_frame, model_result, read_clustering_features, relation_to_arrow
from segmentation.scoring.registry import read_registry
from segmentation.scoring.transitions import segment_transitions


def model(dbt, session):
    dbt.config(materialized="table")
    features = dbt.ref("int_customer_features_engineered")
    if is_spark_frame(features):  # Spark: collected, then scored by an in-memory DuckDB
        features = read_clustering_features(features, ordered=False)
    registry = read_registry(relation_to_arrow(dbt.ref("segmentation_models")))
    return model_result(session, segment_transitions(features, registry, session))
