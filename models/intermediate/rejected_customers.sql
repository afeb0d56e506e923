-- Source rows that cannot be used (the rows of stg_customers with a rejection_reason),
-- with the reason and the original raw text of every column, so that they can be fixed
-- at the source and reloaded. Intermediate, not staging: it reads stg_customers.

with

validated as (

    select * from {{ ref('stg_customers') }}

),

final as (

    select
        source_row_number,
        customer_id,
        {%- for column in raw_customer_columns() %}
        raw_{{ column }},
        {%- endfor %}
        rejection_reason
    from validated
    where not is_valid

)

select * from final
