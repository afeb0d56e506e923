-- The semantic layer's view of dim_segments (semantic model segments): one row per
-- segment of the model version in use, and the build date, its time dimension.

with

segments as (

    select * from {{ ref('dim_segments') }}

),

final as (

    select
        -- ids
        segment_id,
        segment_name,
        model_version,

        -- campaign
        campaign,
        offer,
        channel,

        -- size
        customer_count,
        customer_share,

        -- time
        {{ build_date() }} as build_date
    from segments

)

select * from final
