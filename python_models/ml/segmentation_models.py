"""segmentation_models: the model registry, one row per fitted model version.

Incremental, and never rebuilt by --full-refresh (see _ml__models.yml): each build with
var refit true appends the version it fits; with refit false it appends nothing. The fit
reads seeded samples and aggregates of the features through DuckDB, never the whole
table (see segmentation/fit/versions.py, fit_version).
"""

from segmentation.fit.versions import update_registry
from segmentation.params import SegmentationParams
from segmentation.relations import model_result, relation_to_arrow, relation_to_frame
from segmentation.scoring.registry import REGISTRY_SCHEMA, read_registry


def model(dbt, session):
    params = SegmentationParams.from_config(dbt.config.get("segmentation_params"))
    stored = (
        relation_to_arrow(session.sql(f"select * from {dbt.this}"))
        if dbt.is_incremental
        else REGISTRY_SCHEMA.empty_table()
    )
    # On Spark a DataFrame, fitted with MLlib; on DuckDB a relation, read through samples.
    features = dbt.ref("int_customer_features_engineered")
    naming_rules = relation_to_frame(dbt.ref("segment_naming_rules"))
    return model_result(session, update_registry(features, params, read_registry(stored), naming_rules, session))
