-- One row per raw customer row, typed and validated. Nothing is filtered here:
-- rejected_customers keeps the rows with a rejection_reason, int_customers_cleaned the rest.

with

source as (

    {{ customers_source() }}

),

renamed as (

    select
        -- ids
        source_row_number,
        nullif(upper(trim(cust_id)), '') as customer_id,

        -- source values, for the rejection reasons and the raw text of rejected rows
        {%- for column in raw_customer_columns() %}
        {{ column }} as raw_{{ column }},
        {%- endfor %}

        -- amounts (currency units over the observation window)
        {{ parse_number('balance') }} as balance,
        {{ parse_number('purchases') }} as purchases,
        {{ parse_number('oneoff_purchases') }} as oneoff_purchases,
        {{ parse_number('installments_purchases') }} as installments_purchases,
        {{ parse_number('cash_advance') }} as cash_advance,
        {{ parse_number('credit_limit') }} as credit_limit,
        {{ parse_number('payments') }} as payments,
        {{ parse_number('minimum_payments') }} as minimum_payments,

        -- frequencies (share of months, 0 to 1)
        {{ parse_number('balance_frequency') }} as balance_frequency,
        {{ parse_number('purchases_frequency') }} as purchases_frequency,
        {{ parse_number('oneoff_purchases_frequency') }} as oneoff_purchases_frequency,
        {{ parse_number('purchases_installments_frequency') }}
            as purchases_installments_frequency,
        {{ parse_number('cash_advance_frequency') }} as cash_advance_frequency,
        {{ parse_number('prc_full_payment') }} as prc_full_payment,

        -- counts
        {{ parse_number('cash_advance_trx') }} as cash_advance_trx,
        {{ parse_number('purchases_trx') }} as purchases_trx,
        {{ parse_number('tenure') }} as tenure

    from source

),

repeated_ids as (

    -- The ids found on more than one row, with their first source row: one narrow
    -- aggregate of two columns (it spills to disk), not a window over every column of
    -- every row.
    select
        customer_id,
        min(source_row_number) as first_source_row_number
    from renamed
    where customer_id is not null
    group by customer_id
    having count(*) > 1

),

id_occurrences as (

    select
        renamed.*,
        repeated_ids.first_source_row_number,
        coalesce(
            renamed.source_row_number > repeated_ids.first_source_row_number, false
        ) as is_repeated_customer_id
    from renamed
    left join repeated_ids on renamed.customer_id = repeated_ids.customer_id

),

validated as (

    select
        *,
        nullif(concat_ws(
            '; ',
            {{ customer_id_rejection_reason() }},
            {{ number_rejection_reason('balance', 'amount') }},
            {{ number_rejection_reason('balance_frequency', 'frequency') }},
            {{ number_rejection_reason('purchases', 'amount') }},
            {{ number_rejection_reason('oneoff_purchases', 'amount') }},
            {{ number_rejection_reason('installments_purchases', 'amount') }},
            {{ number_rejection_reason('cash_advance', 'amount') }},
            {{ number_rejection_reason('purchases_frequency', 'frequency') }},
            {{ number_rejection_reason('oneoff_purchases_frequency', 'frequency') }},
            {{ number_rejection_reason('purchases_installments_frequency', 'frequency') }},
            {{ number_rejection_reason('cash_advance_frequency', 'frequency') }},
            {{ number_rejection_reason('cash_advance_trx', 'count') }},
            {{ number_rejection_reason('purchases_trx', 'count') }},
            -- credit limit and minimum payments may be missing: int_customers_cleaned
            -- imputes them.
            {{ number_rejection_reason('credit_limit', 'amount', required=false) }},
            {{ number_rejection_reason('payments', 'amount') }},
            {{ number_rejection_reason('minimum_payments', 'amount', required=false) }},
            {{ number_rejection_reason('prc_full_payment', 'frequency') }},
            {{ number_rejection_reason('tenure', 'tenure') }}
        ), '') as rejection_reason
    from id_occurrences

),

final as (

    select
        source_row_number,
        customer_id,
        balance,
        purchases,
        oneoff_purchases,
        installments_purchases,
        cash_advance,
        credit_limit,
        payments,
        minimum_payments,
        balance_frequency,
        purchases_frequency,
        oneoff_purchases_frequency,
        purchases_installments_frequency,
        cash_advance_frequency,
        prc_full_payment,
        -- counts stay doubles here: a rejected row may hold 1.5 or 1e300;
        -- int_customers_cleaned casts the valid ones to integers.
        cash_advance_trx,
        purchases_trx,
        tenure,
        -- the source text of a rejected row, so that it can be fixed and reloaded
        {%- for column in raw_customer_columns() %}
        case
            when rejection_reason is not null
                then cast(raw_{{ column }} as {{ dbt.type_string() }})
        end as raw_{{ column }},
        {%- endfor %}
        rejection_reason,
        rejection_reason is null as is_valid
    from validated

)

select * from final
