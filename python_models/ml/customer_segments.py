"""customer_segments: the segment of every clean customer under the model version in use.

Each customer goes to the nearest centroid of the version; see segmentation/pipeline.py.
"""

from segmentation.params import SegmentationParams
from segmentation.pipeline import segment_customers
from segmentation.registry import model_in_use, read_registry, segment_names
from segmentation.relations import is_spark_frame, relation_to_arrow, relation_to_frame
from segmentation.spark import segment_frame


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    relation = dbt.ref("customer_features_reduced")
    registry = read_registry(relation_to_arrow(dbt.ref("segmentation_models")))
    if is_spark_frame(relation):  # Spark: assigned on the executors
        version, segment_model = model_in_use(registry, params)
        return segment_frame(relation, segment_model, version, segment_names(registry, version))
    # Each customer is assigned on its own: no sort needed.
    reduced = relation_to_frame(relation)
    if reduced.empty:  # dbt build --empty
        return segment_customers(reduced, None, 0, {})
    version, segment_model = model_in_use(registry, params)
    return segment_customers(reduced, segment_model, version, segment_names(registry, version))
