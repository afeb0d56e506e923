{% macro median(column) -%}
    {#- The median of a numeric column, as an aggregate (portable ordered-set form). -#}
    percentile_cont(0.5) within group (order by {{ column }})
{%- endmacro %}
