-- The segments are exactly 1..k, k being the one selected in segment_elbow, each with
-- at least one customer. Returns a row when the ids found differ from 1..k.

with

selected as (

    select k from {{ ref('segment_elbow') }}
    where is_selected

),

found as (

    select
        count(distinct segment_id) as segment_count,
        min(segment_id) as min_segment_id,
        max(segment_id) as max_segment_id
    from {{ ref('customer_segments') }}

),

final as (

    select
        selected.k,
        found.segment_count,
        found.min_segment_id,
        found.max_segment_id
    from found
    cross join selected
    where
        found.segment_count <> selected.k
        or found.min_segment_id <> 1
        or found.max_segment_id <> selected.k

)

select * from final
