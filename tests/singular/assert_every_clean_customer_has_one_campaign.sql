-- Every clean customer appears in the campaign audience exactly once, with a campaign,
-- except an atypical customer left out by var atypical_customers: exclude (the default),
-- who appears not at all; with atypical_customers: include, every clean customer appears.

with

customers as (

    select
        cleaned.customer_id,
        coalesce(segmented.is_atypical, false) as is_atypical
    from {{ ref('int_customers_cleaned') }} as cleaned
    left join {{ ref('dim_customers') }} as segmented on cleaned.customer_id = segmented.customer_id

),

audience as (

    select
        customer_id,
        count(*) as campaign_rows,
        count(campaign) as campaigns
    from {{ ref('fct_campaign_audience') }}
    group by customer_id

),

expected as (

    select
        customers.customer_id,
        case
            when
                customers.is_atypical
                and '{{ var("atypical_customers") | string | trim | lower }}' = 'exclude'
                then 0
            else 1
        end as expected_rows,
        coalesce(audience.campaign_rows, 0) as campaign_rows,
        coalesce(audience.campaigns, 0) as campaigns
    from customers
    left join audience on customers.customer_id = audience.customer_id

),

final as (

    select
        customer_id,
        expected_rows,
        campaign_rows,
        campaigns
    from expected
    where campaign_rows != expected_rows or campaigns != expected_rows

)

select * from final
