{#-
    Text from outside the project (a dbt var, a path) rendered into SQL. A value is never
    pasted into SQL as it is: it is a quoted string literal with its quotes escaped, or a
    number or identifier that validate_vars() (macros/checks.sql) has checked first.
    dbt.string_literal does not escape, and dbt-spark's escape_single_quotes leaves a
    backslash in place, so a value ending in a backslash would still close the literal:
    these macros escape both.
-#}

{% macro sql_string_literal(value) %}
    {#- value as a quoted SQL string literal that reads back as value exactly. -#}
    {{ return(adapter.dispatch('sql_string_literal')(value | string)) }}
{% endmacro %}

{% macro default__sql_string_literal(value) %}
    {#- Standard SQL (DuckDB): a quote is doubled; a backslash is an ordinary character. -#}
    {{ return("'" ~ (value | replace("'", "''")) ~ "'") }}
{% endmacro %}

{% macro spark__sql_string_literal(value) %}
    {#- Spark SQL reads backslash escapes in literals: escape the backslash first, then
        the quote. -#}
    {{ return("'" ~ (value | replace('\\', '\\\\') | replace("'", "\\'")) ~ "'") }}
{% endmacro %}


{% macro sql_quoted_identifier(value) %}
    {#- value as a quoted identifier (Spark's parquet.`path`): backticks are doubled,
        the only escape Spark has inside one. -#}
    {{ return('`' ~ (value | string | replace('`', '``')) ~ '`') }}
{% endmacro %}
