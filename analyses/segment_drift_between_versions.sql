-- Example analysis: how the segments drifted between the two latest model versions -
-- for each segment of the older version, the share of its customers that kept their
-- segment, and where the others went. Compile with
-- `dbt compile --select segment_drift_between_versions` and run the SQL in target/.

with

transitions as (

    select * from {{ ref('segment_transitions') }}

),

kept as (

    select
        from_model_version,
        to_model_version,
        from_segment_id,
        from_segment_name,
        sum(customer_count) as customer_count,
        sum(case when from_segment_id = to_segment_id then customer_count else 0 end)
            as kept_customer_count
    from transitions
    group by from_model_version, to_model_version, from_segment_id, from_segment_name

),

largest_outflow as (

    select
        from_segment_id,
        to_segment_name as main_destination,
        customer_count as main_destination_customer_count
    from transitions
    where from_segment_id != to_segment_id
    qualify row_number() over (
        partition by from_segment_id order by customer_count desc, to_segment_id asc
    ) = 1

),

final as (

    select
        kept.from_model_version,
        kept.to_model_version,
        kept.from_segment_id,
        kept.from_segment_name,
        kept.customer_count,
        largest_outflow.main_destination,
        largest_outflow.main_destination_customer_count,
        cast(kept.kept_customer_count as double) / kept.customer_count as kept_share
    from kept
    left join largest_outflow on kept.from_segment_id = largest_outflow.from_segment_id

)

select * from final
order by from_segment_id
