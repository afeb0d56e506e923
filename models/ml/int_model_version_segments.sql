{{ config(materialized='ephemeral') }}

-- One row per model version and segment, the fields of the registry's segment structs
-- spread into columns (shared by segment_definitions and segment_centroids).

with

registry as (

    select * from {{ ref('segmentation_models') }}

),

version_segments as (

    select
        model_version,
        features,
        train_customer_count as version_train_customer_count,
        {{ list_to_rows('segments') }} as version_segment
    from registry

),

segments as (

    -- struct.* spreads the fields of a segment into columns.
    select
        model_version,  -- noqa: RF03
        features,  -- noqa: RF03
        version_train_customer_count,  -- noqa: RF03
        version_segment.*  -- noqa: RF03
    from version_segments

)

select * from segments  -- noqa: AM04
