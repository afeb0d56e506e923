-- The exploratory summary that motivates the features: for every raw numeric column (as
-- typed, before repairs, on the valid source rows) and every engineered clustering
-- feature, its count, nulls, range, mean, median, spread, skewness and share of zeros.
-- The raw amounts are strongly right-skewed, which is why the features take ln(1 + x).

with

raw_customers as (

    select * from {{ ref('stg_customers') }}
    where is_valid

),

features as (

    select * from {{ ref('int_customer_features_engineered') }}

),

long_values as (

    select
        'raw column' as feature_set,
        {{ long_values(raw_numeric_columns()) }}
    from raw_customers
    union all
    select
        'clustering feature' as feature_set,
        {{ long_values(clustering_features()) }}
    from features

),

summary as (

    -- Rounded to 9 significant decimals: parallel float sums differ in the last bits.
    select
        feature_set,
        feature,
        count(feature_value) as value_count,
        count(*) - count(feature_value) as null_count,
        min(feature_value) as min_value,
        max(feature_value) as max_value,
        round(avg(feature_value), 9) as mean_value,
        round(median(feature_value), 9) as median_value,
        round(stddev_samp(feature_value), 9) as stddev_value,
        -- NaN for a constant column (no spread to measure), stored as null.
        round(nullif(skewness(feature_value), 'nan'::double), 9) as skewness,
        round(avg(case when feature_value = 0 then 1.0 else 0.0 end), 9) as zero_share
    from long_values
    group by feature_set, feature

),

final as (

    select * from summary

)

select * from final
