-- The semantic layer's view of fct_campaign_audience (semantic model campaign_audience):
-- one row per clean customer with its campaign, and the build date, its time dimension.

with

audience as (

    select * from {{ ref('fct_campaign_audience') }}

),

final as (

    select
        -- ids
        customer_id,
        segment_id,
        segment_name,
        model_version,
        split,

        -- campaign
        campaign,
        offer,
        channel,

        -- time
        {{ build_date() }} as build_date
    from audience

)

select * from final
