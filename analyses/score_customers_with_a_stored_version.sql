-- Example analysis: score customers with a stored model version, in SQL, with the
-- score_customers macro (like BigQuery ML's ML.PREDICT). Here the engineered features of
-- this build are scored with the version in use, and each customer's segment is
-- compared with customer_segments: every customer agrees. For a what-if, pass
-- another relation with the same feature columns (for example last month's customers,
-- built with var customers_path into their own warehouse and attached) or another
-- version: score_customers(ref('int_customer_features_engineered'), model_version=1).
-- Compile with `dbt compile --select score_customers_with_a_stored_version` and run the
-- SQL in target/.

with

scored as (

    select * from {{ score_customers(ref('int_customer_features_engineered')) }}

),

built as (

    select * from {{ ref('customer_segments') }}

),

compared as (

    select
        scored.segment_id,
        scored.segment_name,
        scored.model_version,
        count(*) as customer_count,
        count(*) filter (where scored.segment_id = built.segment_id) as same_segment_count,
        max(abs(scored.distance_to_centroid - built.distance_to_centroid))
            as max_distance_difference,
        avg(scored.confidence) as mean_confidence
    from scored
    inner join built on scored.customer_id = built.customer_id
    group by scored.segment_id, scored.segment_name, scored.model_version

),

final as (

    select * from compared
    order by segment_id

)

select * from final
