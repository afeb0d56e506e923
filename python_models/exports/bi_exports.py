"""bi_exports: the BI marts written as Parquet files, published under var export_path."""

from segmentation import dbt_models


def model(dbt, session):
    dbt.config(materialized="table")
    return dbt_models.bi_exports(
        session,
        export_path=dbt.config.get("export_path"),
        marts={
            "dim_customers": dbt.ref("dim_customers"),
            "dim_segments": dbt.ref("dim_segments"),
            "fct_campaign_audience": dbt.ref("fct_campaign_audience"),
            "rpt_feature_summary": dbt.ref("rpt_feature_summary"),
            "rpt_feature_correlations": dbt.ref("rpt_feature_correlations"),
            "rpt_segment_distributions": dbt.ref("rpt_segment_distributions"),
        },
    )
