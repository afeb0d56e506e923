"""segment_transitions: how current customers move between the two latest model versions.

Every customer is scored with both versions by the database (rendered SQL); only the
counts of each (from segment, to segment) pair reach Python.
"""

from segmentation import dbt_models


def model(dbt, session):
    dbt.config(materialized="table")
    return dbt_models.segment_transitions(
        session, features=dbt.ref("int_customer_features_engineered"), registry=dbt.ref("segmentation_models")
    )
