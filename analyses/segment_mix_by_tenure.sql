-- Example analysis: how the segment mix changes with months of card service.
-- Compile with `dbt compile --select segment_mix_by_tenure` and run the SQL in target/.

with

customers as (

    select * from {{ ref('dim_customers') }}

),

final as (

    select
        tenure,
        segment_id,
        segment_name,
        count(*) as customer_count,
        cast(count(*) as double)
        / sum(count(*)) over (partition by tenure) as share_of_tenure
    from customers
    group by tenure, segment_id, segment_name

)

select * from final
order by tenure, segment_id
