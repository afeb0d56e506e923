-- Every clean customer appears in the campaign audience exactly once, with a campaign.

with

customers as (

    select customer_id from {{ ref('int_customers_cleaned') }}

),

audience as (

    select
        customer_id,
        count(*) as campaign_rows,
        count(campaign) as campaigns
    from {{ ref('fct_campaign_audience') }}
    group by customer_id

),

final as (

    select
        customers.customer_id,
        coalesce(audience.campaign_rows, 0) as campaign_rows,
        coalesce(audience.campaigns, 0) as campaigns
    from customers
    left join audience on customers.customer_id = audience.customer_id
    where coalesce(audience.campaign_rows, 0) != 1 or coalesce(audience.campaigns, 0) != 1

)

select * from final
