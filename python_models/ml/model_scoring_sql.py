"""model_scoring_sql: for every stored model version, the SQL that scores customers with it.

Rendered from the version's arrays by segmentation/scoring/sql.py (the renderer that
customer_features_reduced and customer_segments use); the score_customers macro
fills in the relation to score.
"""

from segmentation.relations import model_result, relation_to_arrow
from segmentation.scoring.registry import read_registry
from segmentation.scoring.relations import scoring_sql_table


def model(dbt, session):
    dbt.config(materialized="table")
    registry = read_registry(relation_to_arrow(dbt.ref("segmentation_models")))
    return model_result(session, scoring_sql_table(registry))
