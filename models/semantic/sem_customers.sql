-- The semantic layer's view of dim_customers (semantic model customers): the columns its
-- dimensions and measures use, and the build date, its time dimension.

with

customers as (

    select * from {{ ref('dim_customers') }}

),

final as (

    select
        -- ids
        customer_id,
        segment_id,
        segment_name,
        model_version,
        split,
        coalesce(is_atypical, false) as is_atypical,

        -- amounts
        balance,
        credit_limit,
        credit_utilisation,
        purchases,
        cash_advance,
        monthly_purchases,
        monthly_cash_advance,

        -- counts
        tenure,

        -- time
        {{ build_date() }} as build_date
    from customers

)

select * from final
