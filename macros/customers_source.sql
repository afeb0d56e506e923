{#-
    The raw customers, one row per source row, every required column under its lower-case
    name, plus source_row_number (1-based, in source order). CUST_ID is text; the other
    columns keep the file's type when it is text or a number (a typed Parquet file's
    numbers are not formatted as text only to be parsed again), any other type becomes
    text (stg_customers types and validates every value).

    Source: raw.customers (models/staging/_staging__sources.yml), whose meta.path is the
    file named by the var `customers_path` (CSV, gzip-compressed CSV or Parquet, chosen by
    file extension), or by default the demo data seeds/demo_customers.csv. Header names
    are matched case-insensitively and ignoring surrounding spaces; extra columns are
    ignored. Only stg_customers (and the reconciliation test) call this.
-#}

{% macro raw_customers_source_id() %}
    {#- The unique id of source raw.customers in the graph. -#}
    {{ return('source.' ~ project_name ~ '.raw.customers') }}
{% endmacro %}


{% macro raw_customer_columns() %}
    {#- The required columns of the raw customers, lower-case, in file order: the columns
        declared on source raw.customers, the one place they are listed, read from the
        graph. dbt fills the graph only when it executes: while parsing (execute is false)
        the list is empty, which is enough there (parsing renders SQL only to find its refs
        and sources, and none depends on the columns). A unit test compiles against a graph
        of its own, without sources: it overrides this macro with the list
        (models/staging/_staging__unit_tests.yml; tests/unit/test_raw_columns.py checks it). -#}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set source_node = graph.get('sources', {}).get(raw_customers_source_id()) -%}
    {%- if source_node is none or not source_node.columns -%}
        {{ exceptions.raise_compiler_error(
            "the raw customer columns are read from source raw.customers, which "
            ~ ("declares no columns: list them under its columns: in "
                ~ "models/staging/_staging__sources.yml."
                if source_node is not none
                else "is not in this run's graph (a unit test has a graph of its own: set "
                ~ "overrides: macros: raw_customer_columns: [...] in the unit test).")
        ) }}
    {%- endif -%}
    {{ return(source_node.columns.values() | map(attribute='name') | map('lower') | list) }}
{% endmacro %}


{% macro customers_source_path() %}
    {#- The file source raw.customers is read from: its meta.path (var customers_path, or
        the demo data). The var is checked first, also under `dbt compile` and `dbt show`
        (no on-run-start there): the vars stg_customers renders (the path here, the limits
        in validation.sql) never reach SQL unchecked. -#}
    {%- set customers_path = validated_var('customers_path') -%}
    {%- if not execute -%}
        {{ return(customers_path) }}
    {%- endif -%}
    {{ return(graph.sources[raw_customers_source_id()].config.meta.path) }}
{% endmacro %}


{% macro numeric_source_types() %}
    {#- Types (DuckDB's and Spark's names) a source column may have to be read as a
        number directly. -#}
    {{ return([
        'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT',
        'UINTEGER', 'UBIGINT', 'UHUGEINT', 'FLOAT', 'DOUBLE', 'DECIMAL',
        'INT', 'REAL'
    ]) }}
{% endmacro %}


{% macro text_columns(names) %}
    {#- Columns known to be text, under their own names. -#}
    {%- set columns = {} -%}
    {%- for name in names -%}
        {%- do columns.update({name: {'name': name, 'type': 'text'}}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}


{% macro customers_file_format(path) %}
    {#- parquet or csv, by the file extension; anything else is refused. -#}
    {%- set name = path | lower -%}
    {%- if name.endswith('.parquet') -%}
        {{ return('parquet') }}
    {%- elif name.endswith('.csv') or name.endswith('.csv.gz') -%}
        {{ return('csv') }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "customers_path '" ~ path ~ "' is not a supported file: use a .csv, .csv.gz or "
        ~ ".parquet file (the format is chosen by the file extension)."
    ) }}
{% endmacro %}


{% macro customers_file_reader(path) %}
    {#- A relation reading the customers file. -#}
    {{ return(adapter.dispatch('customers_file_reader')(path)) }}
{% endmacro %}

{% macro default__customers_file_reader(path) %}
    {#- A DuckDB table function; the path is a quoted, escaped literal. -#}
    {%- set literal = sql_string_literal(path) -%}
    {%- if customers_file_format(path) == 'parquet' -%}
        {{ return('read_parquet(' ~ literal ~ ')') }}
    {%- endif -%}
    {#- all_varchar: every value arrives as text and is typed in stg_customers, so a
        bad value becomes a rejected row instead of a failed load. -#}
    {#- null_padding: a short line gets nulls (and is rejected as missing values)
        instead of failing the whole load. Compression (.gz) and the delimiter are
        detected by DuckDB's sniffer. The quote and escape are fixed to RFC 4180's double
        quote: left to the sniffer, a few cells holding only ' made it read ' as the
        quote and fail the load. parallel = false: DuckDB's parallel CSV scanner cannot
        combine null_padding with a line break inside a quoted cell, and failed the
        whole load on one such cell (the single-threaded scanner reads it). strict_mode
        = false: a bare carriage return inside a cell made the sniffer give up on the
        file; now that line is read (split where the carriage return is, its parts
        rejected as short rows) and the rest of the file goes on. -#}
    {%- set options = "header = true, all_varchar = true, null_padding = true, quote = '\"', escape = '\"', "
        ~ "parallel = false, strict_mode = false" -%}
    {{ return('read_csv(' ~ literal ~ ', ' ~ options ~ ')') }}
{% endmacro %}

{% macro spark__customers_file_reader(path) %}
    {#- Spark reads a Parquet file as parquet.`path`. A CSV file needs options (a header
        line), which Spark SQL takes only in a data source definition: a temporary view
        of the session, made when dbt executes. Every CSV value arrives as text (no
        schema inference), a quote inside a quoted value is doubled (RFC 4180, as DuckDB
        reads it), a short line gets nulls (PERMISSIVE), .gz is decompressed by extension;
        the delimiter is a comma (Spark does not detect it). -#}
    {#- The path is a quoted identifier (backticks doubled) in parquet.`path`, and an
        escaped string literal (backslashes and quotes) in the view's options. -#}
    {%- set quoted = sql_quoted_identifier(path) -%}
    {%- if customers_file_format(path) == 'parquet' -%}
        {{ return('parquet.' ~ quoted) }}
    {%- endif -%}
    {%- if execute -%}
        {%- do run_query(
            "create or replace temporary view customers_file using csv options (path "
            ~ sql_string_literal(path) ~ ", header 'true', inferSchema 'false', "
            ~ "escape '\"', mode 'PERMISSIVE')"
        ) -%}
    {%- endif -%}
    {{ return('customers_file') }}
{% endmacro %}


{% macro describe_query(sql) %}
    {#- The statement listing the columns (name, type) of a query's result. -#}
    {{ return(adapter.dispatch('describe_query')(sql)) }}
{% endmacro %}

{% macro default__describe_query(sql) %}
    {{ return('describe ' ~ sql) }}
{% endmacro %}

{% macro spark__describe_query(sql) %}
    {{ return('describe query ' ~ sql) }}
{% endmacro %}


{% macro source_row_number() %}
    {#- 1, 2, 3 ... in the order rows are read from the source. -#}
    {{ return(adapter.dispatch('source_row_number')()) }}
{% endmacro %}

{% macro default__source_row_number() %}
    {#- DuckDB keeps insertion order for a plain scan. -#}
    row_number() over ()
{% endmacro %}

{% macro spark__source_row_number() %}
    {#- Spark needs an ordered window: monotonically_increasing_id grows with the file's
        partition and the row's position in it, that is in file order. A window without
        partitions runs in one task: fine for tens of millions of rows, the first thing
        to change (to the id itself, not consecutive) past that. Cast to bigint, the type
        of row_number() on DuckDB: the contracts of the staging models name one type. -#}
    cast(row_number() over (order by monotonically_increasing_id()) as bigint)
{% endmacro %}


{% macro customers_source_columns(reader) %}
    {#- Map each required column to the column found in the file: its name and its type
        (`type`: text, number, or other). -#}
    {%- set required = raw_customer_columns() -%}
    {%- if not execute -%}
        {{ return(text_columns(required)) }}
    {%- endif -%}
    {%- set described = run_query(describe_query('select * from ' ~ reader)) -%}
    {%- set found = [] -%}
    {%- set by_name = {} -%}
    {%- for row in described.rows -%}
        {%- set column = row[0] -%}
        {%- set base_type = (row[1] | upper).split('(')[0] -%}
        {%- do found.append(column) -%}
        {%- do by_name.update({(column | trim | lower): {
            'name': column,
            'type': 'text' if base_type in ('VARCHAR', 'STRING')
                else ('number' if base_type in numeric_source_types() else 'other')
        }}) -%}
    {%- endfor -%}
    {%- set missing = required | reject('in', by_name) | list -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            "customers_path '" ~ customers_source_path() ~ "' is missing required columns: "
            ~ (missing | map('upper') | join(', ')) ~ ". Columns found: "
            ~ (found | join(', ')) ~ ". Rename the headers (case and surrounding spaces "
            ~ "do not matter) or pass a file with the columns of the Credit Card Dataset "
            ~ "for Clustering. If all the names arrive as one column, the delimiter could "
            ~ "not be detected: use commas or semicolons."
        ) }}
    {%- endif -%}
    {{ return(by_name) }}
{% endmacro %}


{% macro customers_source() %}
    {#- source() makes raw.customers a parent of the caller (lineage, `dbt ls -s
        source:raw.customers+`, unit test inputs). dbt-duckdb would render it as the
        source's external_location, a format string filled in while parsing, where the
        project's macros (the reader's options, the escaping of the path) are not
        available; dbt-spark renders it as a table name. So the file is read by the reader
        built here from the source's meta.path, on both engines. -#}
    {%- set declared = source('raw', 'customers') -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {#- While parsing, nothing is read. A unit test replaces the source with its
            fixture rows: a CTE of text columns named as in the file, which cannot be
            introspected. The vars stg_customers renders are checked all the same. -#}
        {%- do validated_var('customers_path') -%}
        {%- set reads_file = false -%}
        {%- set reader = declared -%}
        {%- set columns = text_columns(raw_customer_columns()) -%}
    {%- else -%}
        {%- set reads_file = true -%}
        {%- set reader = customers_file_reader(customers_source_path()) -%}
        {%- set columns = customers_source_columns(reader) -%}
    {%- endif -%}
    select
        {{ source_row_number() }} as source_row_number,
        {%- for column in raw_customer_columns() %}
        {%- set quoted = adapter.quote(columns[column].name) %}
        {%- if column == 'cust_id' or columns[column].type == 'other' %}
        cast({{ quoted }} as {{ dbt.type_string() }}) as {{ column }}
        {%- else %}
        {{ quoted }} as {{ column }}
        {%- endif %}
        {{- "," if not loop.last }}
        {%- endfor %}
    from {{ reader }}
    {#- dbt build --empty limits a source it renders, not a file read (and leaves a unit
        test's fixture rows, which it also runs, as they are). #}
    {%- if flags.EMPTY and reads_file %}
    limit 0
    {%- endif %}
{% endmacro %}


{% macro customers_file_modified_at() %}
    {#- The loaded_at_query of source raw.customers: when its file was last modified (a
        query returning one timestamp), for `dbt source freshness`. -#}
    {{ return(adapter.dispatch('customers_file_modified_at')(customers_source_path())) }}
{% endmacro %}

{% macro default__customers_file_modified_at(path) %}
    {#- read_blob lists the file without reading it unless its content is selected. -#}
    {{ return('select max(last_modified) from read_blob(' ~ sql_string_literal(path) ~ ')') }}
{% endmacro %}

{% macro spark__customers_file_modified_at(path) %}
    {#- Spark's binaryFile source reads a file's content only when it is selected. -#}
    {{ return('select max(modificationTime) from binaryFile.' ~ sql_quoted_identifier(path)) }}
{% endmacro %}
