{{ config(materialized='view') }}

-- One row per move of a customer from one segment to another between two published
-- builds (customer_segment_history: a stretch that ended where the next one began, in
-- another segment). Who moved from frequent purchasers to revolvers since last month:
--   select customer_id from customer_segment_moves
--   where from_segment_name = 'Frequent purchasers'
--     and to_segment_name = 'Cash-advance revolvers'
--     and moved_at >= current_date - interval 1 month

with

history as (

    select * from {{ ref('customer_segment_history') }}

),

moves as (

    select
        before_move.customer_id,
        before_move.segment_id as from_segment_id,
        before_move.segment_name as from_segment_name,
        after_move.segment_id as to_segment_id,
        after_move.segment_name as to_segment_name,
        before_move.model_version as from_model_version,
        after_move.model_version as to_model_version,
        after_move.valid_from_build_id as build_id,
        after_move.valid_from as moved_at
    from history as before_move
    inner join history as after_move
        on
            before_move.customer_id = after_move.customer_id
            and before_move.valid_to_build_id = after_move.valid_from_build_id
    where before_move.segment_id != after_move.segment_id

),

final as (

    select
        customer_id || '@' || build_id as move_key,
        customer_id,
        from_segment_id,
        from_segment_name,
        to_segment_id,
        to_segment_name,
        from_model_version,
        to_model_version,
        build_id,
        moved_at,
        cast(moved_at as date) as moved_on
    from moves

)

select * from final
