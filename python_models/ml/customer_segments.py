"""customer_segments: the segment of every clean customer under the model version in use.

Each customer goes to the nearest centroid of the version. On DuckDB the model returns a
relation of SQL rendered from the version's centroids (segmentation/scoring/sql.py).
"""

from segmentation.params import SegmentationParams
from segmentation.relations import is_spark_frame, relation_to_arrow
from segmentation.scoring.registry import model_in_use, read_registry, segment_names
from segmentation.scoring.relations import segments_relation
from segmentation.scoring.spark import segment_frame


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    relation = dbt.ref("customer_features_reduced")
    registry = read_registry(relation_to_arrow(dbt.ref("segmentation_models")))
    if is_spark_frame(relation):  # Spark: assigned on the executors
        version, segment_model = model_in_use(registry, params)
        return segment_frame(relation, segment_model, version, segment_names(registry, version))
    return segments_relation(session, relation, registry, params)
