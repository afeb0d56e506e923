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


{% macro seeded_uniform(column) %}
    {#- seeded_hash(column) as a share of its range, in [0, 1). -#}
    {{ return(adapter.dispatch('seeded_uniform')(column)) }}
{% endmacro %}

{% macro default__seeded_uniform(column) -%}
    ({{ seeded_hash(column) }} / 18446744073709551616.0)
{%- endmacro %}

{% macro spark__seeded_uniform(column) -%}
    (cast({{ seeded_hash(column) }} as double) / 18446744073709551616.0 + 0.5)
{%- endmacro %}


{% macro seeded_customer_sample(relation, where=none) %}
    {#- A select of the rows of `relation` (a table: ref() or source(), one row per
        customer_id) that satisfy `where` (SQL, optional), with the smallest seeded hash:
        at most var statistics_sample_size of them, the same ones on every build with the
        same seed and customers, as the Python models' samples
        (segmentation/engines/protocol.py). The top-n (a bounded heap) sees only the rows
        whose hash is in the lowest (1.25 n + 100) / rows of its range: a quarter more
        than it keeps, instead of every row with every column. Give it the table, not a
        CTE of the model: DuckDB stores a CTE that a query reads more than once whole
        (ten million rows), and the sample reads its input twice. -#}
    {%- set size = validated_var('statistics_sample_size') | int -%}
    {%- set condition = '(' ~ where ~ ') and ' if where else '' -%}
    select *
    from {{ relation }}
    where
        {{ condition }}{{ seeded_uniform('customer_id') }}
        < (1.25 * {{ size }} + 100) / (
            select count(*) from {{ relation }}
            {%- if where %}
            where {{ where }}
            {%- endif %}
        )
    order by {{ seeded_hash('customer_id') }}, customer_id
    limit {{ size }}
{% endmacro %}
