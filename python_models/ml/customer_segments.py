"""customer_segments: the segment of every clean customer (dbt Python model).

Reads the engineered features, fits StandardScaler -> PCA -> KMeans on the train split
and assigns every customer; see segmentation/pipeline.py for the numbering rule.
"""

from segmentation.columns import CLUSTERING_FEATURES
from segmentation.params import SegmentationParams
from segmentation.pipeline import segment_customers
from segmentation.relations import relation_to_frame


def model(dbt, session):
    dbt.config(materialized="table")
    params = SegmentationParams.from_config(
        {
            "n_segments": dbt.config.get("n_segments"),
            "random_seed": dbt.config.get("random_seed"),
            "n_components": dbt.config.get("n_components"),
        }
    )
    features = relation_to_frame(
        dbt.ref("int_customer_features_engineered"),
        columns=["customer_id", "split", *CLUSTERING_FEATURES],
        order_by="customer_id",  # k-means depends on row order: fix it
    )
    segments, _ = segment_customers(features, params)
    return segments
