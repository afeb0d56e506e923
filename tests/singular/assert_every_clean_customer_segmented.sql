-- Every clean customer has exactly one segment, and every segmented customer is clean.
-- Returns the customers found on one side only.

with

clean as (

    select customer_id from {{ ref('int_customers_cleaned') }}

),

segmented as (

    select customer_id from {{ ref('customer_segments') }}

),

final as (

    select
        coalesce(clean.customer_id, segmented.customer_id) as customer_id,
        case
            when segmented.customer_id is null then 'clean but not segmented'
            else 'segmented but not clean'
        end as problem
    from clean
    full outer join segmented on clean.customer_id = segmented.customer_id
    where clean.customer_id is null or segmented.customer_id is null

)

select * from final
