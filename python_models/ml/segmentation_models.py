"""segmentation_models: the model registry, one row per fitted model version.

Incremental, and never rebuilt by --full-refresh (see _ml__models.yml): each build with
var refit true appends the version it fits; with refit false it appends nothing. The fit
reads a summary and seeded samples of the features, never the whole table
(segmentation/fit/procedure.py).
"""

from segmentation import dbt_models


def model(dbt, session):
    return dbt_models.segmentation_models(
        session,
        config=dbt.config.get("segmentation_params"),
        features=dbt.ref("int_customer_features_engineered"),
        clustering_features=dbt.ref("segmentation_features"),
        naming_rules=dbt.ref("segment_naming_rules"),
        stored=session.sql(f"select * from {dbt.this}") if dbt.is_incremental else None,
    )
