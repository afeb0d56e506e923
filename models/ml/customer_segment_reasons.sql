{{ config(materialized='view') }}

-- Why each customer is in its segment and not the runner-up: up to three rows per
-- customer, the features that pull it most towards its own centroid, with a sentence
-- quoting the segment medians (segmentation/scoring/explanations.py). A view: the SQL the
-- version in use renders (model_scoring_sql.explanation_sql, through the explain_customers
-- macro) runs when the view is read, so the build writes no row of it, and a query for a
-- few customers computes only theirs. A --empty build (no version stored) gets the
-- columns and no row.

{%- if execute and flags.EMPTY %}
select
    cast(null as varchar) as customer_id,
    cast(null as integer) as reason_rank,
    cast(null as varchar) as feature,
    cast(null as double) as contribution,
    cast(null as double) as feature_value,
    cast(null as double) as segment_median,
    cast(null as double) as runner_up_median,
    cast(null as varchar) as reason,
    cast(null as integer) as segment_id,
    cast(null as integer) as runner_up_segment_id
where false
{%- else %}
select * from {{ explain_customers(ref('int_customer_features_engineered')) }}
{%- endif %}
