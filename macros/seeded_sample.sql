{% macro seeded_hash(column) %}
    {#- A 64-bit hash of `column` and var random_seed: the order a seeded sample takes
        rows in. The same hash the Python models' samples use (segmentation/engines/). -#}
    {{ return(adapter.dispatch('seeded_hash')(column)) }}
{% endmacro %}

{% macro default__seeded_hash(column) -%}
    hash({{ column }}, {{ validated_var('random_seed') | int }})
{%- endmacro %}

{% macro spark__seeded_hash(column) -%}
    xxhash64({{ column }}, {{ validated_var('random_seed') | int }})
{%- endmacro %}


{% macro seeded_customer_sample(relation) %}
    {#- A select of the rows of `relation` (one per customer_id) with the smallest seeded
        hash: at most var statistics_sample_size of them, the same ones on every build
        with the same seed and customers. One top-n (a bounded heap), not a sort. -#}
    select *
    from {{ relation }}
    order by {{ seeded_hash('customer_id') }}, customer_id
    limit {{ validated_var('statistics_sample_size') | int }}
{% endmacro %}
