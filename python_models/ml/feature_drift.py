"""feature_drift: is the version in use still right for this build's customers?

Per clustering feature, the population stability index and the Jensen-Shannon distance
between today's customers and the version's train split, on the quantile bins stored
with the version (segmentation/evaluation/drift.py). A drifted feature (PSI above var
drift_psi_threshold) makes the build warn: refit recommended.
"""

from segmentation import dbt_models


def model(dbt, session):
    dbt.config(materialized="table")
    return dbt_models.feature_drift(
        session,
        config=dbt.config.get("segmentation_params"),
        features=dbt.ref("int_customer_features_engineered"),
        registry=dbt.ref("segmentation_models"),
    )
