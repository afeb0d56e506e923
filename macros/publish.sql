{#-
    Write, audit, publish (on-run-end). dbt builds and tests in the workspace; only a whole
    `dbt build` in which every node passed is published: the workspace's DuckDB file is
    copied into a new build folder and readers are switched to it in one atomic step by the Python side
    (segmentation/serving/publish/, whose plugin.py registers the two SQL functions called here).
    Anything else (a failure, a partial --select, --empty, dbt run/test/seed) publishes
    nothing and says why: readers keep the last published build.
-#}

{% macro publish_build(results) %}
    {%- if execute and target.type == 'duckdb' -%}
        {%- set blocker = _publish_blocker(results) -%}
        {%- if blocker -%}
            {{ log("Not published: " ~ blocker ~ ". Readers keep the last published build; this run's tables are in the workspace " ~ target.path ~ ".", info=true) }}
            {%- do _say_if_out_of_space(results) -%}
        {%- else -%}
            {%- do _publish() -%}
        {%- endif -%}
    {%- endif -%}
    {#- A hook must render to SQL: a no-op statement. -#}
    select 1 as publish_checked
{% endmacro %}


{% macro _publish_blocker(results) %}
    {#- Why this run must not be published, or an empty string. -#}
    {%- if flags.WHICH != 'build' -%}
        {{ return("only a whole 'dbt build' is published, this was 'dbt " ~ flags.WHICH ~ "'") }}
    {%- endif -%}
    {%- if flags.EMPTY -%}
        {{ return("a --empty build has no rows") }}
    {%- endif -%}
    {%- set failed = [] -%}
    {%- set skipped = [] -%}
    {%- for result in results if result.node.resource_type in ('model', 'seed', 'test', 'unit_test') -%}
        {%- if result.status == 'skipped' -%}
            {%- do skipped.append(result.node.name) -%}
        {%- elif result.status not in ('success', 'pass', 'warn') -%}
            {%- do failed.append(result.node.name ~ " (" ~ result.status ~ ")") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if failed or skipped -%}
        {{ return(failed | length ~ " node(s) failed" ~ (": " ~ failed[:5] | join(', ') if failed else "")
            ~ ", " ~ skipped | length ~ " skipped") }}
    {%- endif -%}
    {%- set narrowed = [] -%}
    {%- for option in ('select', 'exclude', 'selector', 'resource_types', 'exclude_resource_types') -%}
        {%- if invocation_args_dict.get(option) -%}
            {%- do narrowed.append('--' ~ option | replace('_', '-')) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if narrowed -%}
        {{ return("a partial build (" ~ narrowed | join(', ') ~ ") is not a whole build") }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}


{% macro _publish() %}
    {#- The Python side copies the workspace's DuckDB file into a new build folder
        (prepare), then adds the publish log and the exports and switches readers to it
        (commit). -#}
    {%- do run_query(
        "select segmentation_publish_prepare(" ~ sql_string_literal(invocation_id) ~ ", "
        ~ sql_string_literal(var('export_path')) ~ ")"
    ) -%}
    {%- do run_query(
        "select segmentation_publish_commit(" ~ sql_string_literal(invocation_id) ~ ", "
        ~ sql_string_literal(var('export_path')) ~ ", "
        ~ sql_string_literal(var('published_builds_kept') | string) ~ ")"
    ) -%}
{% endmacro %}


{% macro _say_if_out_of_space(results) %}
    {#- A model or test that failed on a full disk: say where, how much to free and the way
        out (segmentation/serving/publish/space.py), after dbt's own error. -#}
    {%- set full = [] -%}
    {%- for result in results if 'no space left on device' in (result.message or '') | string | lower -%}
        {%- do full.append(result.node.name) -%}
    {%- endfor -%}
    {%- if full -%}
        {%- set message = "no space left on the warehouse's disk: free some or point DBT_DUCKDB_PATH elsewhere" -%}
        {%- set answer = run_query("select segmentation_no_space_message()") -%}
        {%- if answer -%}
            {%- set message = answer.columns[0].values()[0] -%}
        {%- endif -%}
        {{ log("Out of disk space in " ~ full | join(', ') ~ ": " ~ message, info=true) }}
    {%- endif -%}
{% endmacro %}
