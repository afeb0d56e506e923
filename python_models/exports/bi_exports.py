"""bi_exports: the BI marts written as Parquet files, published under var export_path."""

from segmentation.serving.exports import export_marts, staged_exports_folder


def model(dbt, session):
    dbt.config(materialized="table")
    relations = {
        "dim_customers": dbt.ref("dim_customers"),
        "dim_segments": dbt.ref("dim_segments"),
        "fct_campaign_audience": dbt.ref("fct_campaign_audience"),
        "rpt_feature_summary": dbt.ref("rpt_feature_summary"),
        "rpt_feature_correlations": dbt.ref("rpt_feature_correlations"),
        "rpt_segment_distributions": dbt.ref("rpt_segment_distributions"),
    }
    export_path = dbt.config.get("export_path")
    # Written into the build workspace; the publish step moves them to where export_path
    # points (outside a build workspace, straight into export_path).
    staged = staged_exports_folder(session)
    return export_marts(relations, staged or export_path, published_folder=export_path)
