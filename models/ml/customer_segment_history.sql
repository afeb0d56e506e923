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

closed as (

    -- the open stretches of customers who moved, changed version or left
    select
        compared.open_customer_id as customer_id,
        compared.open_segment_id as segment_id,
        compared.open_segment_name as segment_name,
        compared.open_model_version as model_version,
        compared.open_valid_from_build_id as valid_from_build_id,
        compared.open_valid_from as valid_from,
        this_build.build_id as valid_to_build_id,
        this_build.built_at as valid_to
    from compared
    cross join this_build
    where compared.open_customer_id is not null

),

opened as (

    -- new customers, and customers whose segment or version changed
    select
        compared.current_customer_id as customer_id,
        compared.current_segment_id as segment_id,
        compared.current_segment_name as segment_name,
        compared.current_model_version as model_version,
        this_build.build_id as valid_from_build_id,
        this_build.built_at as valid_from,
        cast(null as {{ dbt.type_string() }}) as valid_to_build_id,
        cast(null as timestamp) as valid_to
    from compared
    cross join this_build
    where compared.current_customer_id is not null

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
