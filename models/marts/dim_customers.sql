-- One row per clean customer with its segment and main attributes in real units: the
-- table BI tools join to their own customer tables on customer_id. The three rates it
-- shares with int_customer_features_engineered are computed again from the clean amounts
-- (the same macros) instead of joined in: a second join of every customer holds both hash
-- tables at once and spills to disk under the build's memory limit (run alone on 10M
-- customers, 18-21 s with one join against 24-25 s with two).
-- customer_segments keeps the row order of int_customers_cleaned (rows_aligned checks it
-- in one pass of their ids): its rows are then paired with the customers' by position,
-- without a hash table of every customer (on 10M customers 15 s against 22-25 s, and
-- nothing spilled); in any other order, by customer_id, with the same result.
{%- set segments_in_customer_order = rows_aligned(
    ref('customer_segments'), ref('int_customers_cleaned'), 'customer_id'
) %}

with

segments as (

    select * from {{ ref('customer_segments') }}

),

customers as (

    select * from {{ ref('int_customers_cleaned') }}

),

final as (

    select
        -- ids
        segments.customer_id,
        segments.segment_id,
        segments.segment_name,
        segments.model_version,
        segments.split,
        segments.distance_to_centroid,
        segments.confidence,
        segments.runner_up_segment_id,
        segments.assignment_margin,
        segments.normalized_distance,
        segments.is_atypical,

        -- amounts
        customers.balance,
        customers.credit_limit,
        {{ credit_utilisation('customers.balance', 'customers.credit_limit') }}
            as credit_utilisation,
        customers.purchases,
        customers.oneoff_purchases,
        customers.installments_purchases,
        customers.cash_advance,
        customers.payments,
        customers.minimum_payments,
        {{ monthly('customers.purchases', 'customers.tenure') }} as monthly_purchases,
        {{ monthly('customers.cash_advance', 'customers.tenure') }} as monthly_cash_advance,

        -- frequencies
        customers.purchases_frequency,
        customers.cash_advance_frequency,
        customers.prc_full_payment,

        -- counts
        customers.purchases_trx,
        customers.cash_advance_trx,
        customers.tenure,

        -- data quality flags
        customers.is_credit_limit_imputed,
        customers.is_minimum_payments_imputed,
        customers.is_frequency_clamped
    from segments
    {% if segments_in_customer_order -%}
    positional join customers
    {%- else -%}
    inner join customers on segments.customer_id = customers.customer_id
    {%- endif %}

)

select * from final
