-- segment_transitions counts every clean customer exactly once (when two model versions
-- are stored; it is empty before that).

with

transitions as (

    select
        coalesce(sum(customer_count), 0) as counted,
        count(*) as pairs
    from {{ ref('segment_transitions') }}

),

customers as (

    select count(*) as customer_count from {{ ref('int_customers_cleaned') }}

)

select
    transitions.counted,
    customers.customer_count
from transitions
cross join customers
where transitions.pairs > 0 and transitions.counted != customers.customer_count
