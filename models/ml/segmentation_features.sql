-- The clustering features, one row per feature in the order the segment model reads
-- them: the columns of int_customer_features_engineered whose yml entry says
-- `meta: {clustering_feature: true}` (macros/column_lists.sql, clustering_features).
-- The fit reads this table, so declaring a feature in the yml is all it takes to
-- cluster it; `meta: {transform: log}` there marks a skewed amount the segment model
-- transforms (var feature_transform).

-- depends_on: {{ ref("int_customer_features_engineered") }}

{%- set features = clustering_features() %}

with

declared as (

    {%- for feature in features %}
    select
        {{ loop.index }} as feature_position,
        '{{ feature.name }}' as feature,
        '{{ dbt.escape_single_quotes(feature.description | trim) }}' as description,
        '{{ dbt.escape_single_quotes(feature.transform) }}' as transform,
        '{{ dbt.escape_single_quotes(feature.unit) }}' as unit
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    -- while dbt parses, before the features are known: no row
    select
        0 as feature_position,
        '' as feature,
        '' as description,
        '' as transform,
        '' as unit
    where false
    {%- endfor %}

),

final as (

    select
        cast(feature_position as integer) as feature_position,
        cast(feature as {{ dbt.type_string() }}) as feature,
        cast(description as {{ dbt.type_string() }}) as description,
        cast(transform as {{ dbt.type_string() }}) as transform,
        cast(unit as {{ dbt.type_string() }}) as unit
    from declared

)

select * from final
