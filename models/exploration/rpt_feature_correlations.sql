-- The correlation matrix of the clustering features in long form: one row per ordered
-- pair of features (both orders, and each feature with itself), Pearson's correlation on
-- a seeded sample of at most var statistics_sample_size clean customers (200,000 by
-- default: a correlation within about 0.002 of everyone's). Pairs near 1 or -1 carry the
-- same information twice, which is what the reducer (PCA or the autoencoder) compresses.

{%- set features = clustering_feature_names() %}
{%- set pairs = [] %}
{%- for first in features %}
{%- for second in features[loop.index:] %}
{%- do pairs.append(first ~ '__' ~ second) %}
{%- endfor %}
{%- endfor %}

with

feature_sample as (

    {{ seeded_customer_sample(ref('int_customer_features_engineered')) }}

),

upper_triangle as (

    -- One row, one scan: corr(a, b) for every pair a before b in the feature list.
    select
        {%- for pair in pairs %}
        round(corr({{ pair.split('__') | join(', ') }}), 9) as {{ pair }}__correlation,
        {%- endfor %}
        count(*) as customer_count
    from feature_sample

),

long_form as (

    {{ unpivot_wide('upper_triangle', [], 'feature_pair', pairs, ['correlation']) }}

),

pairs as (

    -- A constant feature (for example a column empty for every customer) has no
    -- correlation: DuckDB gives NaN, stored as null.
    select
        split_part(feature_pair, '__', 1) as feature_a,
        split_part(feature_pair, '__', 2) as feature_b,
        case when isnan(correlation) then null else correlation end as correlation
    from long_form

),

diagonal as (

    select feature_list.feature_name
    from (
        values
        {%- for feature in features %}
        ('{{ feature }}'){{ "," if not loop.last }}
        {%- endfor %}
    ) as feature_list (feature_name)

),

final as (

    select
        feature_a,
        feature_b,
        correlation
    from pairs
    union all
    select
        feature_b as feature_a,
        feature_a as feature_b,
        correlation
    from pairs
    union all
    select
        feature_name as feature_a,
        feature_name as feature_b,
        cast(1.0 as double) as correlation
    from diagonal

)

select * from final
