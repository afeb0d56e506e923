-- Features that separate customer behaviour, one row per clean customer. Amounts are
-- turned into per-month rates (tenure varies from 6 to 12 months) and kept in real units:
-- they are heavily right-skewed and often exactly zero, and the segment model learns how
-- to transform each of them (var feature_transform; by default ln(x + shift) with the
-- shift learned on the train split and stored with the model version, docs/quality.md).
-- Each feature is documented in _intermediate__models.yml, where the clustered ones are
-- marked (meta clustering_feature) with their transform (meta transform).

with

customers as (

    select * from {{ ref('int_customers_cleaned') }}

),

rates as (

    select
        customer_id,
        tenure,
        balance,
        balance_frequency,
        purchases_frequency,
        oneoff_purchases_frequency,
        purchases_installments_frequency,
        cash_advance_frequency,
        prc_full_payment,
        credit_limit,
        {{ monthly('purchases') }} as monthly_purchases,
        {{ monthly('oneoff_purchases') }} as monthly_oneoff_purchases,
        {{ monthly('installments_purchases') }} as monthly_installments_purchases,
        {{ monthly('cash_advance') }} as monthly_cash_advance,
        {{ monthly('payments') }} as monthly_payments,
        cast(purchases_trx as double) / tenure as monthly_purchases_trx,
        cast(cash_advance_trx as double) / tenure as monthly_cash_advance_trx,
        -- A few real rows have purchases but no transactions: count them as one.
        purchases / greatest(purchases_trx, 1) as average_purchase_ticket,
        cash_advance / greatest(cash_advance_trx, 1) as average_cash_advance_ticket,
        -- Minimum payments below 1 currency unit would blow the ratio up: floor at 1.
        payments / greatest(minimum_payments, 1) as payment_to_minimum_ratio,
        -- Balance over credit limit, capped at 2 (over-limit balances exist; a zero
        -- limit with a balance counts as the cap).
        {{ credit_utilisation('balance', 'credit_limit') }} as credit_utilisation
    from customers

),

final as (

    select
        -- ids
        customer_id,
        {{ train_test_split('customer_id') }} as split,

        -- descriptive rate in real units (not clustered)
        average_cash_advance_ticket,

        -- clustering features: amounts, counts and ratios in real units, which the
        -- segment model transforms (meta transform: log)
        balance,
        monthly_purchases,
        monthly_oneoff_purchases,
        monthly_installments_purchases,
        monthly_cash_advance,
        monthly_purchases_trx,
        monthly_cash_advance_trx,
        average_purchase_ticket,
        credit_limit,
        monthly_payments,
        payment_to_minimum_ratio,

        -- clustering features: shares and frequencies, already on [0, 1] (or [0, 2])
        credit_utilisation,
        balance_frequency,
        purchases_frequency,
        oneoff_purchases_frequency,
        purchases_installments_frequency,
        cash_advance_frequency,
        prc_full_payment
    from rates

)

select * from final
