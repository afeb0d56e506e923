{% macro md5_prefix_number(expression) -%}
    {#- The first 8 hex digits of md5(expression) as an integer in [0, 2^32). md5 is the
        same on every engine and version, so a customer's split never depends on them. -#}
    {{ return(adapter.dispatch('md5_prefix_number')(expression)) }}
{%- endmacro %}

{% macro default__md5_prefix_number(expression) -%}
    {#- DuckDB casts a '0x'-prefixed hex string to an integer. -#}
    cast(('0x' || left(md5({{ expression }}), 8)) as bigint)
{%- endmacro %}


{% macro spark__md5_prefix_number(expression) -%}
    {#- Spark converts hex text to a decimal string with conv(). -#}
    cast(conv(left(md5({{ expression }}), 8), 16, 10) as bigint)
{%- endmacro %}


{% macro train_test_split(customer_id) -%}
    {#- 'test' for a var test_share of customers, 'train' for the rest, decided by a hash
        of customer_id and var random_seed alone: a customer keeps its split when other
        customers are added or removed. -#}
    case
        when {{ md5_prefix_number(
            customer_id ~ " || ':' || " ~ sql_string_literal(validated_var('random_seed'))
        ) }} < {{ (validated_var('test_share') | float) * 4294967296 }}
            then 'test'
        else 'train'
    end
{%- endmacro %}

