-- Every clean customer appears in the campaign audience exactly once, with a campaign,
-- except an atypical customer left out by var atypical_customers: exclude (the default),
-- who appears not at all; with atypical_customers: include, every clean customer appears.
-- And every customer of the audience is a clean customer of dim_customers, and
-- dim_customers holds every clean customer and no other (its relationship to the clean
-- customers, checked in the same pass).
-- One aggregate over the ids of the three tables (it spills to disk at any size), not
-- joins: two joins of every customer at once ran out of a 1 GB memory limit at 10M.

with

ids as (

    select
        customer_id,
        1 as is_clean,
        0 as is_in_dim_customers,
        0 as is_atypical,
        0 as campaign_rows,
        0 as campaigns
    from {{ ref('int_customers_cleaned') }}

    union all

    select
        customer_id,
        0 as is_clean,
        1 as is_in_dim_customers,
        case when is_atypical then 1 else 0 end as is_atypical,
        0 as campaign_rows,
        0 as campaigns
    from {{ ref('dim_customers') }}

    union all

    select
        customer_id,
        0 as is_clean,
        0 as is_in_dim_customers,
        0 as is_atypical,
        1 as campaign_rows,
        case when campaign is not null then 1 else 0 end as campaigns
    from {{ ref('fct_campaign_audience') }}

),

per_customer as (

    select
        customer_id,
        max(is_clean) as is_clean,
        max(is_in_dim_customers) as is_in_dim_customers,
        max(is_atypical) as is_atypical,
        sum(campaign_rows) as campaign_rows,
        sum(campaigns) as campaigns
    from ids
    group by customer_id

),

expected as (

    select
        customer_id,
        is_clean,
        is_in_dim_customers,
        case
            when is_clean = 0 then 0
            when
                is_atypical = 1
                and '{{ var("atypical_customers") | string | trim | lower }}' = 'exclude'
                then 0
            else 1
        end as expected_rows,
        campaign_rows,
        campaigns
    from per_customer

),

final as (

    select
        customer_id,
        is_clean,
        is_in_dim_customers,
        expected_rows,
        campaign_rows,
        campaigns
    from expected
    where
        campaign_rows != expected_rows
        or campaigns != expected_rows
        or (campaign_rows > 0 and is_in_dim_customers = 0)
        or is_in_dim_customers != is_clean

)

select * from final
