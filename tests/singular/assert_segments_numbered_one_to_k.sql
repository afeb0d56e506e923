-- The segments are exactly 1..n_segments, each with at least one customer.
-- Returns a row when the ids found differ from 1..k.

with

found as (

    select
        count(distinct segment_id) as segment_count,
        min(segment_id) as min_segment_id,
        max(segment_id) as max_segment_id
    from {{ ref('customer_segments') }}

),

final as (

    select * from found
    where
        segment_count <> {{ var('n_segments') }}
        or min_segment_id <> 1
        or max_segment_id <> {{ var('n_segments') }}

)

select * from final
