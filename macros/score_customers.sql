{#-
    score_customers(relation, model_version=none): score any relation with a stored model
    version, like BigQuery ML's ML.PREDICT. The relation needs customer_id and the
    version's feature columns (those of int_customer_features_engineered); the macro
    renders a parenthesised subquery giving customer_id, segment_id, segment_name,
    model_version, distance_to_centroid, confidence, runner_up_segment_id,
    assignment_margin, normalized_distance and is_atypical, computed by the database from
    the SQL rendered from the version's arrays (model_scoring_sql, the same renderer as
    customer_segments). model_version none: the version in use (the one customer_segments
    was scored with: var model_version, else the latest).

        select * from {{ score_customers(ref('int_customer_features_engineered')) }}
        select * from {{ score_customers(source_or_ref, model_version=2) }}

    explain_customers(relation, model_version=none): the same relation explained, with the
    rows of customer_segment_reasons (up to three per customer: reason_rank, feature,
    contribution, feature_value, segment_median, runner_up_median, reason, segment_id,
    runner_up_segment_id; docs/explanations.md).

        select * from {{ explain_customers(ref('int_customer_features_engineered')) }}
-#}
{% macro score_customers(relation, model_version=none) %}
    {{- _stored_version_sql('score_customers', 'scoring_sql', relation, model_version) -}}
{% endmacro %}


{% macro explain_customers(relation, model_version=none) %}
    {{- _stored_version_sql('explain_customers', 'explanation_sql', relation, model_version) -}}
{% endmacro %}


{% macro _stored_version_sql(caller_name, column, relation, model_version) %}
    {%- set scoring = ref('model_scoring_sql') -%}
    {#- model_version_in_use reads customer_segments: ref it here so dbt sees the dependency at parse time. -#}
    {%- set segments = ref('customer_segments') -%}
    {%- if not execute or adapter.get_relation(scoring.database, scoring.schema, scoring.identifier) is none -%}
        {#- Parse time, or nothing built yet (as when sqlfluff compiles the project): the
            key column, and a query that says what to do if it is run. -#}
        {%- set message = caller_name ~ ": " ~ scoring ~ " does not exist yet; run dbt build first" -%}
        (select
            cast({{ 'error' if target.type == 'duckdb' else 'raise_error' }}({{ sql_string_literal(message) }}) as varchar)
                as customer_id,
            cast(null as int) as segment_id)
    {%- else -%}
        {%- if model_version is none -%}
            {%- set version_sql = model_version_in_use() -%}
        {%- elif model_version is number or (model_version is string and model_version.strip().isdigit()) -%}
            {%- set version_sql = model_version | int -%}
        {%- else -%}
            {%- do exceptions.raise_compiler_error(
                caller_name ~ ": model_version must be a whole number (a version of segmentation_models) "
                ~ "or none for the version in use; got " ~ model_version ~ "."
            ) -%}
        {%- endif -%}
        {%- set found = run_query(
            "select model_version, input_placeholder, " ~ column ~ " from " ~ scoring
            ~ " where model_version = " ~ version_sql
        ) -%}
        {%- if found.rows | length != 1 -%}
            {%- set stored = run_query("select model_version from " ~ scoring ~ " order by model_version") -%}
            {%- do exceptions.raise_compiler_error(
                caller_name ~ ": model version " ~ (model_version if model_version is not none else "in use")
                ~ " is not stored in segmentation_models; stored versions: "
                ~ (stored.columns[0].values() | list) ~ ". Pass one of them as model_version, "
                ~ "or run a refitting dbt build first."
            ) -%}
        {%- endif -%}
        ({{ found.rows[0][2] | replace(found.rows[0][1], relation | string) }})
    {%- endif -%}
{% endmacro %}
