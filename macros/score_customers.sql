{#-
    score_customers(relation, model_version=none): score any relation with a stored model
    version, like BigQuery ML's ML.PREDICT. The relation needs customer_id and the
    version's feature columns (those of int_customer_features_engineered); the macro
    renders a parenthesised subquery giving customer_id, segment_id, segment_name,
    model_version, distance_to_centroid and confidence, computed by the database from the
    SQL rendered from the version's arrays (model_scoring_sql, the same renderer as
    customer_segments). model_version none: the version in use (the one customer_segments
    was scored with: var model_version, else the latest).

        select * from {{ score_customers(ref('int_customer_features_engineered')) }}
        select * from {{ score_customers(source_or_ref, model_version=2) }}
-#}
{% macro score_customers(relation, model_version=none) %}
    {%- set scoring = ref('model_scoring_sql') -%}
    {#- model_version_in_use reads customer_segments: ref it here so dbt sees the dependency at parse time. -#}
    {%- set segments = ref('customer_segments') -%}
    {%- if not execute or adapter.get_relation(scoring.database, scoring.schema, scoring.identifier) is none -%}
        {#- Parse time, or nothing built yet (as when sqlfluff compiles the project): the
            columns, and a query that says what to do if it is run. -#}
        {%- set message = "score_customers: " ~ scoring ~ " does not exist yet; run dbt build first" -%}
        (select
            cast({{ 'error' if target.type == 'duckdb' else 'raise_error' }}({{ sql_string_literal(message) }}) as varchar)
                as customer_id,
            cast(null as int) as segment_id,
            cast(null as varchar) as segment_name,
            cast(null as int) as model_version,
            cast(null as double) as distance_to_centroid,
            cast(null as double) as confidence)
    {%- else -%}
        {%- if model_version is none -%}
            {%- set version_sql = model_version_in_use() -%}
        {%- elif model_version is number or (model_version is string and model_version.strip().isdigit()) -%}
            {%- set version_sql = model_version | int -%}
        {%- else -%}
            {%- do exceptions.raise_compiler_error(
                "score_customers: model_version must be a whole number (a version of segmentation_models) "
                ~ "or none for the version in use; got " ~ model_version ~ "."
            ) -%}
        {%- endif -%}
        {%- set found = run_query(
            "select model_version, input_placeholder, scoring_sql from " ~ scoring
            ~ " where model_version = " ~ version_sql
        ) -%}
        {%- if found.rows | length != 1 -%}
            {%- set stored = run_query("select model_version from " ~ scoring ~ " order by model_version") -%}
            {%- do exceptions.raise_compiler_error(
                "score_customers: model version " ~ (model_version if model_version is not none else "in use")
                ~ " is not stored in segmentation_models; stored versions: "
                ~ (stored.columns[0].values() | list) ~ ". Pass one of them as model_version, "
                ~ "or run a refitting dbt build first."
            ) -%}
        {%- endif -%}
        ({{ found.rows[0][2] | replace(found.rows[0][1], relation | string) }})
    {%- endif -%}
{% endmacro %}
