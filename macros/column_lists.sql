{% macro main_customer_attributes() %}
    {#- The customer attributes in real units that the marts carry and profile. -#}
    {{ return([
        'balance', 'credit_limit', 'credit_utilisation', 'purchases', 'oneoff_purchases',
        'installments_purchases', 'cash_advance', 'payments', 'minimum_payments',
        'monthly_purchases', 'monthly_cash_advance', 'purchases_frequency',
        'cash_advance_frequency', 'prc_full_payment', 'tenure'
    ]) }}
{% endmacro %}


{% macro raw_numeric_columns() %}
    {#- The numeric columns of the raw customers file, as typed by stg_customers: every
        column of source raw.customers (raw_customer_columns) but the id, CUST_ID. -#}
    {{ return(raw_customer_columns() | reject('equalto', 'cust_id') | list) }}
{% endmacro %}


{% macro clustering_features() %}
    {#- The engineered features the segment model clusters, in the order it reads them: the
        columns of int_customer_features_engineered whose entry in
        models/intermediate/_intermediate__models.yml has `meta: {clustering_feature: true}`
        (the one place they are declared; the Python models read them from the
        segmentation_features model, built from this list). Each item: name, description,
        transform (`meta: {transform: log}`: the segment model transforms the feature as var
        feature_transform says; none: clustered as it is), unit (`meta: {unit: ...}`:
        currency, share, count or ratio, how explanations write its values).
        Empty while dbt parses (the graph is filled only when it executes). -#}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.int_customer_features_engineered') -%}
    {%- set found = [] -%}
    {%- for column in (node.columns.values() if node else []) -%}
        {%- set meta = column.get('config', {}).get('meta', {}) or column.get('meta', {}) -%}
        {%- if meta.get('clustering_feature') -%}
            {%- set feature = {
                'name': column.name,
                'description': column.description,
                'transform': meta.get('transform', 'none') | string,
                'unit': meta.get('unit', '') | string,
            } -%}
            {%- for key, allowed, meaning in [
                ('unit', ['currency', 'share', 'count', 'ratio'], 'how explanations write its values'),
                ('transform', ['log', 'none'], 'log: a skewed amount the segment model transforms'),
            ] -%}
                {%- if feature[key] not in allowed -%}
                    {{ exceptions.raise_compiler_error(
                        "clustering feature " ~ column.name ~ " of int_customer_features_engineered: meta "
                        ~ key ~ " is '" ~ feature[key] ~ "'; give it `" ~ key ~ ": " ~ allowed | join(' | ')
                        ~ "` (" ~ meaning ~ ") beside `clustering_feature: true` in "
                        ~ "models/intermediate/_intermediate__models.yml."
                    ) }}
                {%- endif -%}
            {%- endfor -%}
            {%- do found.append(feature) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not found -%}
        {{ exceptions.raise_compiler_error(
            "no clustering feature is declared: mark the columns of int_customer_features_engineered "
            ~ "the segment model clusters with `config: {meta: {clustering_feature: true}}` in "
            ~ "models/intermediate/_intermediate__models.yml."
        ) }}
    {%- endif -%}
    {{ return(found) }}
{% endmacro %}


{% macro clustering_feature_names() %}
    {#- The names of clustering_features(), in order. -#}
    {{ return(clustering_features() | map(attribute='name') | list) }}
{% endmacro %}


{% macro split_to_rows(text, delimiter) %}
    {#- A select-list item: one row per part of `text` split at the literal `delimiter`. -#}
    {{ return(adapter.dispatch('split_to_rows')(text, delimiter)) }}
{% endmacro %}

{% macro default__split_to_rows(text, delimiter) -%}
    unnest(string_split({{ text }}, '{{ delimiter }}'))
{%- endmacro %}

{% macro spark__split_to_rows(text, delimiter) -%}
    {#- Spark's split takes a regular expression: the delimiter is quoted as one. -#}
    explode(split({{ text }}, '\\Q{{ delimiter }}\\E'))
{%- endmacro %}


{% macro list_to_rows(list_column) %}
    {#- A select-list item: one row per element of a list (array) column. -#}
    {{ return(adapter.dispatch('list_to_rows')(list_column)) }}
{% endmacro %}

{% macro default__list_to_rows(list_column) -%}
    unnest({{ list_column }})
{%- endmacro %}

{% macro spark__list_to_rows(list_column) -%}
    explode({{ list_column }})
{%- endmacro %}


{% macro zipped_lists_to_rows(position, lists) %}
    {#- Select-list items: one row per position of lists of equal length, the 1-based
        position as the column `position`, the i-th element of each list under the
        list's own name. -#}
    {{ return(adapter.dispatch('zipped_lists_to_rows')(position, lists)) }}
{% endmacro %}

{% macro default__zipped_lists_to_rows(position, lists) -%}
    {#- DuckDB zips lists unnested in one select. -#}
    unnest(generate_series(1, len({{ lists[0] }}))) as {{ position }},
    {%- for list in lists %}
    unnest({{ list }}) as {{ list }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro spark__zipped_lists_to_rows(position, lists) -%}
    {#- The position is a bigint, as generate_series gives it on DuckDB (the contracts name
        one type). -#}
    inline(arrays_zip(sequence(cast(1 as bigint), cast(size({{ lists[0] }}) as bigint)), {{ lists | join(', ') }}))
        as ({{ position }}, {{ lists | join(', ') }})
{%- endmacro %}
