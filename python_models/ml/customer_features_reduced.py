"""customer_features_reduced: every customer's coordinates in the version's reduced space.

Scales and reduces int_customer_features_engineered with the arrays of the model version
in use (the one this build fitted, or with var refit false the stored one asked for). On
DuckDB the model returns a relation of SQL rendered from the version's arrays
(segmentation/scoring/sql.py): DuckDB computes every row, nothing enters Python.
"""

from segmentation.params import SegmentationParams
from segmentation.relations import is_spark_frame, relation_to_arrow
from segmentation.scoring.registry import model_in_use, read_registry
from segmentation.scoring.relations import reduced_relation
from segmentation.scoring.spark import reduce_frame


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    relation = dbt.ref("int_customer_features_engineered")
    registry = read_registry(relation_to_arrow(dbt.ref("segmentation_models")))
    if is_spark_frame(relation):  # Spark: reduced on the executors
        return reduce_frame(relation, model_in_use(registry, params)[1])
    return reduced_relation(session, relation, registry, params)
