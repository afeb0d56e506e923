{% macro build_date() %}
    {#- The date (UTC) the running dbt invocation started, as a SQL date literal: the time
        dimension of the semantic layer (models/semantic). The marts hold one build's
        snapshot and no date of their own; this is the date of that snapshot. -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d") }}' as date)
{%- endmacro %}
