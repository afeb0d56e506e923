-- The semantic layer's view of customer_segment_moves (semantic model segment_moves): one
-- row per move between segments, with the day of the build the customer moved in.

with

moves as (

    select * from {{ ref('customer_segment_moves') }}

),

final as (

    select
        move_key,
        customer_id,
        from_segment_name,
        to_segment_name,
        moved_on
    from moves

)

select * from final
