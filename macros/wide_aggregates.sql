{#- Whole-table statistics in one scan: one aggregate column per column and statistic
    (named <column>__<statistic>) in a select of few rows, then reshaped to one row per
    column by unpivot_wide(). Used by the exploration marts. -#}


{% macro summary_statistics() %}
    {#- The statistics of rpt_feature_summary, in its column order. -#}
    {{ return([
        'value_count', 'null_count', 'min_value', 'max_value', 'mean_value', 'median_value',
        'stddev_value', 'skewness', 'zero_share'
    ]) }}
{% endmacro %}


{% macro summary_aggregates(columns) %}
    {#- Select-list items: the summary_statistics() of every column but the median
        (median_aggregates(), on a sample), as a double, named <column>__<statistic>: one
        pass of streaming aggregates over every row. Rounded to 9 decimals: parallel float
        sums differ in the last bits. -#}
    {%- for column in columns %}
    {%- set value = 'cast(' ~ column ~ ' as double)' %}
    count({{ value }}) as {{ column }}__value_count,
    count(*) - count({{ value }}) as {{ column }}__null_count,
    min({{ value }}) as {{ column }}__min_value,
    max({{ value }}) as {{ column }}__max_value,
    round(avg({{ value }}), 9) as {{ column }}__mean_value,
    round(stddev_samp({{ value }}), 9) as {{ column }}__stddev_value,
    {#- NaN for a constant column (no spread to measure), stored as null. #}
    round(nullif({{ sample_skewness(value) }}, cast('NaN' as double)), 9) as {{ column }}__skewness,
    round(avg(case when {{ value }} = 0 then 1 else 0 end), 9) as {{ column }}__zero_share
    {{- "," if not loop.last }}
    {%- endfor %}
{% endmacro %}


{% macro median_aggregates(columns) %}
    {#- Select-list items: the median of every column (as a double), named
        <column>__median_value. A median needs every value in memory: the exploration
        marts take it on a seeded sample (seeded_customer_sample()). -#}
    {%- for column in columns %}
    round({{ median('cast(' ~ column ~ ' as double)') }}, 9) as {{ column }}__median_value
    {{- "," if not loop.last }}
    {%- endfor %}
{% endmacro %}


{% macro sample_skewness(column) %}
    {#- The sample skewness of a numeric column (DuckDB's skewness: adjusted for the
        sample size; null for fewer than 3 values), as an aggregate. -#}
    {{ return(adapter.dispatch('sample_skewness')(column)) }}
{% endmacro %}

{% macro default__sample_skewness(column) -%}
    skewness({{ column }})
{%- endmacro %}

{% macro spark__sample_skewness(column) -%}
    {#- Spark's skewness is the population skewness: adjusted by sqrt(n(n-1))/(n-2). -#}
    case
        when count({{ column }}) > 2
            then skewness({{ column }})
            * sqrt(count({{ column }}) * (count({{ column }}) - 1.0)) / (count({{ column }}) - 2.0)
    end
{%- endmacro %}


{% macro quantile_list(column, fractions) %}
    {#- An aggregate: the interpolated quantiles of a numeric column at `fractions`, as a
        list (one sort per group instead of one per quantile); list_element() reads it. -#}
    {{ return(adapter.dispatch('quantile_list')(column, fractions)) }}
{% endmacro %}

{% macro default__quantile_list(column, fractions) -%}
    quantile_cont({{ column }}, [{{ fractions | join(', ') }}])
{%- endmacro %}

{% macro spark__quantile_list(column, fractions) -%}
    {#- percentile (exact, linear interpolation), not percentile_approx. -#}
    percentile({{ column }}, array({{ fractions | join(', ') }}))
{%- endmacro %}


{% macro list_element(list_column, position) %}
    {#- The element of a list (array) column at the 1-based `position`. -#}
    {{ return(adapter.dispatch('list_element')(list_column, position)) }}
{% endmacro %}

{% macro default__list_element(list_column, position) -%}
    {{ list_column }}[{{ position }}]
{%- endmacro %}

{% macro spark__list_element(list_column, position) -%}
    element_at({{ list_column }}, {{ position }})
{%- endmacro %}


{% macro unpivot_wide(relation, kept_columns, name_column, names, statistics) %}
    {#- A select turning each row of `relation` (a CTE of few rows with a column
        <name>__<statistic> for every name and statistic) into one row per name: the
        kept_columns, the name as `name_column`, and one column per statistic. Nulls are
        kept. -#}
    {{ return(adapter.dispatch('unpivot_wide')(relation, kept_columns, name_column, names, statistics)) }}
{% endmacro %}

{% macro default__unpivot_wide(relation, kept_columns, name_column, names, statistics) -%}
    select
        {%- for column in kept_columns %}
        {{ column }},
        {%- endfor %}
        {{ name_column }},
        {{ statistics | join(', ') }}
    from {{ relation }}
    unpivot include nulls (
        ({{ statistics | join(', ') }}) for {{ name_column }} in (
            {%- for name in names %}
            ({% for statistic in statistics %}{{ name }}__{{ statistic }}{{ ", " if not loop.last }}{% endfor %}) as {{ name }}{{ "," if not loop.last }}
            {%- endfor %}
        )
    )
{%- endmacro %}

{% macro spark__unpivot_wide(relation, kept_columns, name_column, names, statistics) -%}
    select
        {%- for column in kept_columns %}
        {{ column }},
        {%- endfor %}
        stack(
            {{ names | length }},
            {%- for name in names %}
            '{{ name }}', {% for statistic in statistics %}{{ name }}__{{ statistic }}{{ ", " if not loop.last }}{% endfor %}{{ "," if not loop.last }}
            {%- endfor %}
        ) as ({{ name_column }}, {{ statistics | join(', ') }})
    from {{ relation }}
{%- endmacro %}


{% macro range_aggregates(columns) %}
    {#- Select-list items: for every column (as a double), min, max and mean, named
        <column>__min_value, __max_value, __mean_value: streaming aggregates, over every row. -#}
    {%- for column in columns %}
    {%- set value = 'cast(' ~ column ~ ' as double)' %}
    min({{ value }}) as {{ column }}__min_value,
    max({{ value }}) as {{ column }}__max_value,
    round(avg({{ value }}), 9) as {{ column }}__mean_value
    {{- "," if not loop.last }}
    {%- endfor %}
{% endmacro %}


{% macro quantile_aggregates(columns, fractions) %}
    {#- Select-list items: for every column (as a double), the quantiles at `fractions`
        as one list (one sort instead of one per quantile; list_element() reads it), named
        <column>__quantiles. Every value in memory: taken on a seeded sample. -#}
    {%- for column in columns %}
    {{ quantile_list('cast(' ~ column ~ ' as double)', fractions) }} as {{ column }}__quantiles
    {{- "," if not loop.last }}
    {%- endfor %}
{% endmacro %}
