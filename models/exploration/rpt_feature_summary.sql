-- The exploratory summary that motivates the features: for every raw numeric column (as
-- typed, before repairs, on the valid source rows) and every engineered clustering
-- feature, its count, nulls, range, mean, median, spread, skewness and share of zeros.
-- The raw amounts are strongly right-skewed, which is why the features take ln(1 + x).
-- Counts, range, mean, spread, skewness and zero share over every row, in one pass of
-- streaming aggregates over each input; the median on a seeded sample of at most var
-- statistics_sample_size customers (a median needs every value in memory). One row of
-- wide aggregates per input, then one row per column (macros/wide_aggregates.sql).

{%- set statistics = summary_statistics() %}

with

raw_customers as (

    select
        customer_id,
        {{ raw_numeric_columns() | join(',\n        ') }}
    from {{ ref('stg_customers') }}
    where is_valid

),

features as (

    select * from {{ ref('int_customer_features_engineered') }}

),

raw_customer_sample as (

    {{ seeded_customer_sample(ref('stg_customers'), 'is_valid') }}

),

feature_sample as (

    {{ seeded_customer_sample(ref('int_customer_features_engineered')) }}

),

raw_column_aggregates as (

    -- One row: every streaming statistic of every raw column, over every valid row.
    select
        {{- summary_aggregates(raw_numeric_columns()) }}
    from raw_customers

),

raw_column_medians as (

    -- One row: the median of every raw column, on the sample.
    select
        {{- median_aggregates(raw_numeric_columns()) }}
    from raw_customer_sample

),

feature_aggregates as (

    -- One row: every streaming statistic of every clustering feature.
    select
        {{- summary_aggregates(clustering_feature_names()) }}
    from features

),

feature_medians as (

    select
        {{- median_aggregates(clustering_feature_names()) }}
    from feature_sample

),

raw_column_statistics as (

    select
        raw_column_aggregates.*,
        raw_column_medians.*
    from raw_column_aggregates
    cross join raw_column_medians

),

feature_statistics as (

    select
        feature_aggregates.*,
        feature_medians.*
    from feature_aggregates
    cross join feature_medians

),

raw_column_rows as (

    {{ unpivot_wide('raw_column_statistics', [], 'feature', raw_numeric_columns(), statistics) }}

),

feature_rows as (

    {{ unpivot_wide('feature_statistics', [], 'feature', clustering_feature_names(), statistics) }}

),

summary as (

    select
        'raw column' as feature_set,
        feature,
        {{ statistics | join(', ') }}
    from raw_column_rows
    union all
    select
        'clustering feature' as feature_set,
        feature,
        {{ statistics | join(', ') }}
    from feature_rows

),

final as (

    select * from summary

)

select * from final
