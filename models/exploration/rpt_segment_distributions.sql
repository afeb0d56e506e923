-- Per segment and main attribute (real units), the distribution of the segment's
-- customers: quantiles, range and mean, beside the same for all customers (segment_id 0,
-- segment_name 'All customers'), so a segment's spread reads against everyone's.

with

customers as (

    select * from {{ ref('dim_customers') }}

),

long_values as (

    select
        segment_id,
        segment_name,
        {{ long_values(main_customer_attributes()) }}
    from customers

),

by_segment as (

    select
        segment_id,
        segment_name,
        feature as attribute,
        {{ distribution_columns('feature_value') }}
    from long_values
    group by segment_id, segment_name, feature

),

all_customers as (

    select
        0 as segment_id,
        'All customers' as segment_name,
        feature as attribute,
        {{ distribution_columns('feature_value') }}
    from long_values
    group by feature

),

both_levels as (

    select * from by_segment
    union all
    select * from all_customers

),

final as (

    select
        segment_id,
        segment_name,
        attribute,
        customer_count,
        min_value,
        {{ distribution_quantiles() }},
        max_value,
        mean_value
    from both_levels

)

select * from final
