-- Per segment and main attribute (real units), the distribution of the segment's
-- customers: quantiles, range and mean, beside the same for all customers (segment_id 0,
-- segment_name 'All customers'), so a segment's spread reads against everyone's.
-- One scan: one aggregate per attribute and statistic, per segment and over everyone,
-- then one row per segment and attribute (macros/wide_aggregates.sql).

{%- set attributes = main_customer_attributes() %}

with

customers as (

    select * from {{ ref('dim_customers') }}

),

wide_distributions as (

    -- One row per segment, and one (is_all_customers = 1) over every customer: the
    -- rollup of the pair (segment_id, segment_name) adds the grand total.
    select
        segment_id,
        segment_name,
        grouping(segment_id) as is_all_customers,
        count(*) as customer_count,
        {{- distribution_aggregates(attributes, [0.05, 0.25, 0.5, 0.75, 0.95]) }}
    from customers
    group by rollup((segment_id, segment_name))

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
