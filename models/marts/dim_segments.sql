-- One row per segment: its name, size, share and the mean of each main attribute in
-- real units, so that marketing can see what sets the segment apart.

with

customers as (

    select * from {{ ref('dim_customers') }}

),

definitions as (

    select * from {{ ref('segment_definitions') }}
    where is_in_use

),

total as (

    select count(*) as customer_count from customers

),

profiles as (

    -- Means are rounded to 6 decimals: DuckDB sums doubles in parallel, in no fixed
    -- order, and the last bits would otherwise differ between identical builds.
    select
        segment_id,
        model_version,
        count(*) as customer_count,
        sum(case when split = 'train' then 1 else 0 end) as train_customer_count,
        sum(case when split = 'test' then 1 else 0 end) as test_customer_count,
        {%- for attribute in main_customer_attributes() %}
        round(avg({{ attribute }}), 6) as avg_{{ attribute }},
        {%- endfor %}
        round(avg(distance_to_centroid), 6) as avg_distance_to_centroid
    from customers
    group by segment_id, model_version

),

final as (

    select
        profiles.segment_id,
        definitions.segment_name,
        definitions.description as segment_description,
        profiles.model_version,
        profiles.customer_count,
        cast(profiles.customer_count as double) / total.customer_count as customer_share,
        profiles.train_customer_count,
        profiles.test_customer_count,
        {%- for attribute in main_customer_attributes() %}
        profiles.avg_{{ attribute }},
        {%- endfor %}
        profiles.avg_distance_to_centroid
    from profiles
    inner join definitions
        on
            profiles.model_version = definitions.model_version
            and profiles.segment_id = definitions.segment_id
    cross join total

)

select * from final
