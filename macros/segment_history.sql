{#-
    customer_segment_history keeps the segments readers have seen: the stretches of the
    published builds only. Before a build adds its own, forget_unpublished_history removes
    what a build that never published left (it failed after the history model ran), and
    what a build rolled back from added: stretches opened by a build outside the published
    lineage are deleted, stretches closed by one are open again. The lineage is the
    current published build, the build it replaced, and so on
    (segmentation.serving.publish.publish_log.published_lineage, a SQL function of the
    plugin).
-#}
{% macro forget_unpublished_history(relation) %}
    {#- Only a DuckDB build publishes (the Spark build skips the history). -#}
    {%- if target.type != 'duckdb' -%}
        {{ return(none) }}
    {%- endif -%}
    {#- Asked once and written into the statements as a literal: a Python function in a
        where clause is called per row (5 s on 9,000 customers). -#}
    {%- set lineage_text = run_query("select coalesce(segmentation_published_lineage(), '')").columns[0].values()[0] -%}
    {%- set lineage = "string_split(" ~ sql_string_literal(lineage_text) ~ ", ',')" -%}
    {%- do run_query(
        "delete from " ~ relation ~ " where not list_contains(" ~ lineage ~ ", valid_from_build_id)"
    ) -%}
    {%- do run_query(
        "update " ~ relation ~ " set valid_to_build_id = null, valid_to = null, is_current = true"
        ~ " where valid_to_build_id is not null and not list_contains(" ~ lineage ~ ", valid_to_build_id)"
    ) -%}
{% endmacro %}
