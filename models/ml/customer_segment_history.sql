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
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as integer) as segment_id,
        cast(null as {{ dbt.type_string() }}) as segment_name,
        cast(null as integer) as model_version,
        cast(null as {{ dbt.type_string() }}) as valid_from_build_id,
        cast(null as timestamp) as valid_from
    where false
    {%- endif %}

),

this_build as (

    select
        '{{ invocation_id }}' as build_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as built_at

),

compared as (

    -- One join of every customer: the customers who moved, changed version, left
    -- (only an open stretch) or arrived (only a current segment). Each input is read
    -- once (DuckDB stores a CTE that a query reads more than once whole).
    select
        current_segments.customer_id as current_customer_id,
        current_segments.segment_id as current_segment_id,
        current_segments.segment_name as current_segment_name,
        current_segments.model_version as current_model_version,
        open_stretches.customer_id as open_customer_id,
        open_stretches.segment_id as open_segment_id,
        open_stretches.segment_name as open_segment_name,
        open_stretches.model_version as open_model_version,
        open_stretches.valid_from_build_id as open_valid_from_build_id,
        open_stretches.valid_from as open_valid_from
    from current_segments
    full outer join open_stretches on current_segments.customer_id = open_stretches.customer_id
    where
        current_segments.customer_id is null
        or open_stretches.customer_id is null
        or current_segments.segment_id != open_stretches.segment_id
        or current_segments.model_version != open_stretches.model_version

),

-- A changed customer closes a stretch, opens one, or both: each row of compared gives
-- its closed and its opened stretch in one pass (a CTE read twice, as by two selects
-- and a union, is stored whole: every customer, on the first build).
sides as (

    select 'closed' as side
    union all
    select 'opened' as side

),

changes as (

    select
        {%- for column, if_closed, if_opened in [
            ('customer_id', 'compared.open_customer_id', 'compared.current_customer_id'),
            ('segment_id', 'compared.open_segment_id', 'compared.current_segment_id'),
            ('segment_name', 'compared.open_segment_name', 'compared.current_segment_name'),
            ('model_version', 'compared.open_model_version', 'compared.current_model_version'),
            ('valid_from_build_id', 'compared.open_valid_from_build_id', 'this_build.build_id'),
            ('valid_from', 'compared.open_valid_from', 'this_build.built_at'),
            ('valid_to_build_id', 'this_build.build_id', 'null'),
        ] %}
        case
            when sides.side = 'closed' then {{ if_closed }}
            else {{ if_opened }}
        end as {{ column }},
        {%- endfor %}
        case when sides.side = 'closed' then this_build.built_at end as valid_to
    from compared
    cross join this_build
    cross join sides
    where
        (sides.side = 'closed' and compared.open_customer_id is not null)
        or (sides.side = 'opened' and compared.current_customer_id is not null)

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
