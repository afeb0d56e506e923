-- Per segment and main attribute (real units), the distribution of the segment's
-- customers: quantiles, range and mean, beside the same for all customers (segment_id 0,
-- segment_name 'All customers'), so a segment's spread reads against everyone's.
-- Counts, ranges and means over every customer (one pass of streaming aggregates); the
-- quantiles on a seeded sample of at most var statistics_sample_size customers (a
-- quantile needs every value in memory). One row per segment, then one row per segment
-- and attribute (macros/wide_aggregates.sql).

{%- set attributes = main_customer_attributes() %}

with

customers as (

    select * from {{ ref('dim_customers') }}

),

customer_sample as (

    {{ seeded_customer_sample(ref('dim_customers')) }}

),

wide_ranges as (

    -- One row per segment, and one (is_all_customers = 1) over every customer: the
    -- rollup of the pair (segment_id, segment_name) adds the grand total.
    select
        segment_id,
        segment_name,
        grouping(segment_id) as is_all_customers,
        count(*) as customer_count,
        {{- range_aggregates(attributes) }}
    from customers
    group by rollup((segment_id, segment_name))

),

wide_quantiles as (

    -- The same rows, from the sample.
    select
        segment_id,
        grouping(segment_id) as is_all_customers,
        {{- quantile_aggregates(attributes, [0.05, 0.25, 0.5, 0.75, 0.95]) }}
    from customer_sample
    group by rollup(segment_id)

),

wide_distributions as (

    -- A segment too small to be sampled keeps its counts, ranges and means, without
    -- quantiles.
    select
        wide_ranges.*,
        {{ 'wide_quantiles.' ~ attributes | join('__quantiles, wide_quantiles.') ~ '__quantiles' }}
    from wide_ranges
    left join wide_quantiles
        on
            wide_ranges.is_all_customers = wide_quantiles.is_all_customers
            and coalesce(wide_ranges.segment_id, 0) = coalesce(wide_quantiles.segment_id, 0)

),

long_form as (

    {{ unpivot_wide(
        'wide_distributions',
        ['segment_id', 'segment_name', 'is_all_customers', 'customer_count'],
        'attribute',
        attributes,
        ['min_value', 'quantiles', 'max_value', 'mean_value'],
    ) }}

),

final as (

    select
        case when is_all_customers = 1 then 0 else segment_id end as segment_id,
        case when is_all_customers = 1 then 'All customers' else segment_name end as segment_name,
        attribute,
        customer_count,
        min_value,
        {{ list_element('quantiles', 1) }} as p05,
        {{ list_element('quantiles', 2) }} as p25,
        {{ list_element('quantiles', 3) }} as p50,
        {{ list_element('quantiles', 4) }} as p75,
        {{ list_element('quantiles', 5) }} as p95,
        max_value,
        mean_value
    from long_form

)

select * from final
