{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['customer_id', 'valid_from_build_id'],
    full_refresh=false,
    on_schema_change='append_new_columns',
) }}

-- One row per customer and stretch of published builds in one segment (and one model
-- version): valid_from_build_id opened it, valid_to_build_id closed it (null: it is
-- still the customer's segment). Incremental and kept across builds (a full refresh does
-- not rebuild it): each build closes the stretches whose customer moved or left and
-- opens the new ones; only builds readers saw are kept (macros/segment_history.sql).
-- Who moved where: customer_segment_moves.

{%- if execute and is_incremental() %}{% do forget_unpublished_history(this) %}{% endif %}

with

current_segments as (

    select
        customer_id,
        segment_id,
        segment_name,
        model_version
    from {{ ref('customer_segments') }}

),

open_stretches as (

    {%- if is_incremental() %}
    select
        customer_id,
        segment_id,
        segment_name,
        model_version,
        valid_from_build_id,
        valid_from
    from {{ this }}
    where valid_to_build_id is null
    {%- else %}
    -- the first build: nothing is open yet
    select
        customer_id,
        segment_id,
        segment_name,
        model_version,
        '' as valid_from_build_id,
        cast(null as timestamp) as valid_from
    from current_segments
    where false
    {%- endif %}

),

this_build as (

    select
        '{{ invocation_id }}' as build_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as built_at

),

closed as (

    -- the open stretches of customers who moved, changed version or left
    select
        open_stretches.customer_id,
        open_stretches.segment_id,
        open_stretches.segment_name,
        open_stretches.model_version,
        open_stretches.valid_from_build_id,
        open_stretches.valid_from,
        this_build.build_id as valid_to_build_id,
        this_build.built_at as valid_to
    from open_stretches
    cross join this_build
    left join current_segments on open_stretches.customer_id = current_segments.customer_id
    where
        current_segments.customer_id is null
        or current_segments.segment_id != open_stretches.segment_id
        or current_segments.model_version != open_stretches.model_version

),

opened as (

    -- new customers, and customers whose segment or version changed
    select
        current_segments.customer_id,
        current_segments.segment_id,
        current_segments.segment_name,
        current_segments.model_version,
        this_build.build_id as valid_from_build_id,
        this_build.built_at as valid_from,
        cast(null as varchar) as valid_to_build_id,
        cast(null as timestamp) as valid_to
    from current_segments
    cross join this_build
    left join open_stretches on current_segments.customer_id = open_stretches.customer_id
    where
        open_stretches.customer_id is null
        or current_segments.segment_id != open_stretches.segment_id
        or current_segments.model_version != open_stretches.model_version

),

changes as (

    select * from closed
    union all
    select * from opened

),

final as (

    select
        customer_id,
        segment_id,
        segment_name,
        model_version,
        valid_from_build_id,
        valid_from,
        valid_to_build_id,
        valid_to,
        valid_to_build_id is null as is_current
    from changes

)

select * from final
