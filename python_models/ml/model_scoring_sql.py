"""model_scoring_sql: for every stored model version, the SQL that scores customers with it.

Rendered from the version's arrays by segmentation/scoring/sql.py (the renderer that
customer_features_reduced and customer_segments use); the score_customers macro
fills in the relation to score, and the explain_customers macro the relation to explain.
"""

from segmentation import dbt_models


def model(dbt, session):
    dbt.config(materialized="table")
    return dbt_models.model_scoring_sql(
        session, registry=dbt.ref("segmentation_models"), clustering_features=dbt.ref("segmentation_features")
    )
