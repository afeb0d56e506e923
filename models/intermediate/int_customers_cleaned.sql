-- The usable customers: valid rows of stg_customers with the known quirks of real
-- extracts repaired by documented rules, and a flag for every repair.
--   * A frequency above 1 (up to var max_clampable_frequency) is clamped to 1.
--   * A missing CREDIT_LIMIT is imputed with the median credit limit.
--   * A missing MINIMUM_PAYMENTS is imputed with 0 when the customer paid nothing
--     (PAYMENTS = 0: no statement needed a minimum payment), else with the smaller of
--     PAYMENTS and the median minimum payment.
--   * A column that is empty for every customer has no median: it is imputed with 0, and
--     the features made from it are then constant and left out of clustering (with a
--     warning in the build output).
{{ check_enough_clean_customers() }}

with

valid_customers as (

    select * from {{ ref('stg_customers') }}
    where is_valid

),

medians as (

    -- From the table, not from valid_customers: DuckDB stores a CTE that a query reads
    -- twice whole (every column of every customer).
    select
        {{ median('credit_limit') }} as median_credit_limit,
        {{ median('minimum_payments') }} as median_minimum_payments
    from {{ ref('stg_customers') }}
    where is_valid

),

cleaned as (

    select
        -- ids
        valid_customers.customer_id,
        valid_customers.source_row_number,

        -- amounts
        valid_customers.balance,
        valid_customers.purchases,
        valid_customers.oneoff_purchases,
        valid_customers.installments_purchases,
        valid_customers.cash_advance,
        coalesce(valid_customers.credit_limit, medians.median_credit_limit, 0) as credit_limit,
        valid_customers.payments,
        coalesce(
            valid_customers.minimum_payments,
            case
                when valid_customers.payments = 0 then 0
                else least(valid_customers.payments, coalesce(medians.median_minimum_payments, 0))
            end
        ) as minimum_payments,

        -- frequencies, clamped to [0, 1]
        least(valid_customers.balance_frequency, 1.0) as balance_frequency,
        least(valid_customers.purchases_frequency, 1.0) as purchases_frequency,
        least(valid_customers.oneoff_purchases_frequency, 1.0) as oneoff_purchases_frequency,
        least(valid_customers.purchases_installments_frequency, 1.0)
            as purchases_installments_frequency,
        least(valid_customers.cash_advance_frequency, 1.0) as cash_advance_frequency,
        least(valid_customers.prc_full_payment, 1.0) as prc_full_payment,

        -- counts
        cast(valid_customers.cash_advance_trx as integer) as cash_advance_trx,
        cast(valid_customers.purchases_trx as integer) as purchases_trx,
        cast(valid_customers.tenure as integer) as tenure,

        -- repair flags
        valid_customers.credit_limit is null as is_credit_limit_imputed,
        valid_customers.minimum_payments is null as is_minimum_payments_imputed,
        greatest(
            valid_customers.balance_frequency,
            valid_customers.purchases_frequency,
            valid_customers.oneoff_purchases_frequency,
            valid_customers.purchases_installments_frequency,
            valid_customers.cash_advance_frequency,
            valid_customers.prc_full_payment
        ) > 1 as is_frequency_clamped

    from valid_customers
    cross join medians

)

select * from cleaned
