-- One row per segment of the model version in use: its share of customers now against
-- its share of the train split when the version was fitted, and the share of its
-- customers flagged atypical now against the version's contamination (the share flagged
-- on the train split). With feature_drift, what says whether a refit is due.

with

segments as (

    select * from {{ ref('customer_segments') }}

),

definitions as (

    select * from {{ ref('segment_definitions') }}
    where is_in_use

),

versions as (

    select
        model_version,
        contamination
    from {{ ref('segmentation_models') }}

),

overall as (

    select count(*) as customer_count
    from segments

),

now_per_segment as (

    select
        now_counts.segment_id,
        now_counts.customer_count,
        now_counts.atypical_customer_count,
        cast(now_counts.customer_count as double) / overall.customer_count as customer_share
    from (
        select
            segment_id,
            count(*) as customer_count,
            count(*) filter (where is_atypical) as atypical_customer_count
        from segments
        group by segment_id
    ) as now_counts
    cross join overall

),

final as (

    select
        definitions.segment_id,
        definitions.segment_name,
        definitions.model_version,
        definitions.train_customer_share as share_at_fit,
        coalesce(now_per_segment.customer_share, 0) as share_now,
        coalesce(now_per_segment.customer_share, 0)
        - definitions.train_customer_share as share_change,
        versions.contamination,
        cast(coalesce(now_per_segment.atypical_customer_count, 0) as double)
        / nullif(now_per_segment.customer_count, 0) as atypical_share_now
    from definitions
    left join now_per_segment on definitions.segment_id = now_per_segment.segment_id
    left join versions on definitions.model_version = versions.model_version

)

select * from final
