"""customer_features_reduced: every customer's coordinates in the version's reduced space.

Scales and reduces int_customer_features_engineered with the arrays of the model version
in use (the one this build fitted, or with var refit false the stored one asked for), as
SQL rendered from the version's arrays (segmentation/scoring/sql.py) that the database
runs: nothing enters Python.
"""

from segmentation import dbt_models


def model(dbt, session):
    dbt.config(materialized="table")
    return dbt_models.customer_features_reduced(
        session,
        config=dbt.config.get("segmentation_params"),
        features=dbt.ref("int_customer_features_engineered"),
        registry=dbt.ref("segmentation_models"),
    )
