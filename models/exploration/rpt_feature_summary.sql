-- The exploratory summary that motivates the features: for every raw numeric column (as
-- typed, before repairs, on the valid source rows) and every engineered clustering
-- feature, its count, nulls, range, mean, median, spread, skewness and share of zeros.
-- The raw amounts are strongly right-skewed, which is why the features take ln(1 + x).
-- One scan of each input: one aggregate per column and statistic in a single row, then
-- one row per column (macros/wide_aggregates.sql).

{%- set statistics = summary_statistics() %}

with

raw_customers as (

    select * from {{ ref('stg_customers') }}
    where is_valid

),

features as (

    select * from {{ ref('int_customer_features_engineered') }}

),

raw_column_statistics as (

    -- One row: every statistic of every raw column.
    select
        {{- summary_aggregates(raw_numeric_columns()) }}
    from raw_customers

),

feature_statistics as (

    -- One row: every statistic of every clustering feature.
    select
        {{- summary_aggregates(clustering_feature_names()) }}
    from features

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
