-- Example analysis: the customers of one campaign to contact first - the most typical
-- of their segment (highest confidence), with the balance and spend a call centre sees.
-- Change the campaign name below; compile with
-- `dbt compile --select top_customers_of_campaign` and run the SQL in target/.

{%- set campaign = 'Balance transfer' %}

with

audience as (

    select * from {{ ref('fct_campaign_audience') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

ranked as (

    select
        audience.customer_id,
        audience.segment_name,
        audience.offer,
        audience.channel,
        audience.confidence,
        customers.balance,
        customers.monthly_purchases,
        customers.monthly_cash_advance,
        row_number() over (
            order by audience.confidence desc, audience.customer_id asc
        ) as contact_rank
    from audience
    inner join customers on audience.customer_id = customers.customer_id
    where audience.campaign = '{{ campaign }}'

),

final as (

    select * from ranked
    where contact_rank <= 100

)

select * from final
order by contact_rank
