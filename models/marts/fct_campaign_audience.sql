-- The campaign audience: every clean customer with the campaign, offer and channel of its
-- segment (seed segment_campaigns). Marketing exports this list to its campaign tools.
-- Atypical customers (dim_customers.is_atypical: they fit no segment well) are left out
-- by default; var atypical_customers: include keeps them, flagged.

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
        coalesce(customers.is_atypical, false) as is_atypical,
        customers.split
    from customers
    inner join segments on customers.segment_id = segments.segment_id
    {%- if var('atypical_customers') | string | trim | lower == 'exclude' %}
    where not coalesce(customers.is_atypical, false)
    {%- endif %}

)

select * from final
