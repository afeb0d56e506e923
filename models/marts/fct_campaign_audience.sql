-- The campaign audience: every clean customer with the campaign, offer and channel of its
-- segment (seed segment_campaigns). Marketing exports this list to its campaign tools.

with

customers as (

    select * from {{ ref('dim_customers') }}

),

segments as (

    select * from {{ ref('dim_segments') }}

),

final as (

    select
        customers.customer_id,
        customers.segment_id,
        customers.segment_name,
        customers.model_version,
        segments.campaign,
        segments.offer,
        segments.channel,
        segments.is_default_campaign,
        customers.confidence,
        customers.split
    from customers
    inner join segments on customers.segment_id = segments.segment_id

)

select * from final
