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
        unnest(segments) as version_segment
    from registry

),

segments as (

    -- unnest of a struct spreads its fields into columns.
    select
        model_version,
        features,
        version_train_customer_count,
        unnest(version_segment)  -- noqa: AL03
    from version_segments

)

select * from segments
