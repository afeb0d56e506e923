{#-
    Early checks, run by `on-run-start` before any seed or model is built, so that a wrong
    file or a bad var stops the build in seconds with a message that says what is wrong
    and how to fix it, and the last good warehouse stays as it was.
-#}

{% macro check_inputs() %}
    {%- if execute -%}
        {%- do validate_vars() -%}
        {%- if var('customers_path') -%}
            {%- do check_customers_file(var('customers_path')) -%}
        {%- endif -%}
    {%- endif -%}
    {#- A hook must render to SQL: a no-op statement. -#}
    select 1 as inputs_checked
{% endmacro %}


{% macro _var_error(name, value, accepted) %}
    {{ exceptions.raise_compiler_error(
        "var " ~ name ~ " must be " ~ accepted ~ ", got '" ~ value ~ "'. Set it with: dbt build --vars '{"
        ~ name ~ ": ...}' (see docs/parameters.md)."
    ) }}
{% endmacro %}


{% macro _is_number(value) %}
    {#- A finite decimal number, nothing else (\Z: not even a trailing newline), so that
        a validated value can be rendered into SQL as it is. -#}
    {%- set text = value | string -%}
    {{ return(modules.re.match('^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*\\Z', text) is not none
        and (text | float | abs) < 1e300) }}
{% endmacro %}


{% macro _is_whole_number(value, minimum) %}
    {%- set text = value | string | trim -%}
    {{ return(_is_number(text) and (text | float) == (text | float | int) and (text | float) >= minimum) }}
{% endmacro %}


{% macro validate_vars() %}
    {#- Every var, before any work: a var that reaches SQL is rendered there only after it
        passed here (a number, one of a list, true/false), or as an escaped string literal
        (the paths; macros/sql_literals.sql). The macros that render vars into SQL call
        this again (validated_var), so `dbt compile` and `dbt show`, which skip
        on-run-start, never render a bad value either. The Python models validate
        theirs again (segmentation/params.py). -#}
    {%- for name in ['customers_path', 'export_path'] -%}
        {%- if var(name) is not none and var(name) is not string -%}
            {%- do _var_error(name, var(name), 'a path (text)') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if (var('export_path') or '') | trim == '' -%}
        {%- do _var_error('export_path', var('export_path'),
            'the folder the BI marts are exported to (a path, for example exports)') -%}
    {%- endif -%}
    {%- set n_segments = var('n_segments') | string | trim | lower -%}
    {%- if n_segments != 'auto' and not _is_whole_number(n_segments, 1) -%}
        {%- do _var_error('n_segments', var('n_segments'), "a whole number of at least 1 or 'auto'") -%}
    {%- endif -%}
    {%- set reducers = ['pca', 'autoencoder', 'none'] -%}
    {%- if var('reducer') | string | trim | lower not in reducers -%}
        {%- do _var_error('reducer', var('reducer'), 'one of ' ~ reducers | join(', ')) -%}
    {%- endif -%}
    {%- if not _is_number(var('n_components')) or (var('n_components') | float) <= 0 -%}
        {%- do _var_error('n_components', var('n_components'),
            'a whole number of components (>= 1) or a share of variance between 0 and 1') -%}
    {%- endif -%}
    {%- if not _is_number(var('test_share'))
        or (var('test_share') | float) <= 0 or (var('test_share') | float) >= 1 -%}
        {%- do _var_error('test_share', var('test_share'), 'a number between 0 and 1 (exclusive)') -%}
    {%- endif -%}
    {%- if not _is_whole_number(var('random_seed'), 0) -%}
        {%- do _var_error('random_seed', var('random_seed'), 'a whole number of at least 0') -%}
    {%- endif -%}
    {%- if not _is_number(var('max_clampable_frequency')) or (var('max_clampable_frequency') | float) < 1 -%}
        {%- do _var_error('max_clampable_frequency', var('max_clampable_frequency'), 'a number of at least 1') -%}
    {%- endif -%}
    {%- if not _is_whole_number(var('min_tenure'), 1) or not _is_whole_number(var('max_tenure'), 1)
        or (var('min_tenure') | int) > (var('max_tenure') | int) -%}
        {%- do _var_error('min_tenure/max_tenure', var('min_tenure') ~ '/' ~ var('max_tenure'),
            'whole numbers of at least 1 with min_tenure <= max_tenure') -%}
    {%- endif -%}
    {%- for name in ['rejected_share_warn', 'rejected_share_error'] -%}
        {%- if not _is_number(var(name)) or (var(name) | float) < 0 or (var(name) | float) > 1 -%}
            {%- do _var_error(name, var(name), 'a share between 0 and 1') -%}
        {%- endif -%}
    {%- endfor -%}
    {#- The Python models' sizes (minimums as in segmentation/params.py). -#}
    {%- set sizes = {
        'elbow_max_k': 2, 'elbow_sample_size': 10, 'silhouette_sample_size': 10,
        'kmeans_sample_size': 10, 'autoencoder_epochs': 1, 'autoencoder_batch_size': 1,
        'autoencoder_patience': 1, 'autoencoder_sample_size': 10
    } -%}
    {%- for name, minimum in sizes.items() -%}
        {%- if not _is_whole_number(var(name), minimum) -%}
            {%- do _var_error(name, var(name), 'a whole number of at least ' ~ minimum) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set layers = var('autoencoder_hidden_layers') -%}
    {%- set widths = layers if layers is iterable and layers is not string and layers is not mapping
        else modules.re.split('[\\s,\\[\\]()]+', layers | string) | select | list -%}
    {%- set bad_widths = [] -%}
    {%- for width in widths if not _is_whole_number(width, 1) -%}
        {%- do bad_widths.append(width) -%}
    {%- endfor -%}
    {%- if layers is mapping or bad_widths -%}
        {%- do _var_error('autoencoder_hidden_layers', layers,
            'a list of layer widths, each a whole number of at least 1 (for example [32, 16])') -%}
    {%- endif -%}
    {%- for name in ['compare_reducers', 'refit'] -%}
        {%- if var(name) | string | lower not in ['true', 'false'] -%}
            {%- do _var_error(name, var(name), 'true or false') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set model_version = var('model_version') | string | trim | lower -%}
    {%- if model_version not in ['', 'none', 'latest'] -%}
        {%- if not _is_whole_number(model_version, 1) -%}
            {%- do _var_error('model_version', var('model_version'),
                'a stored model version (a whole number of at least 1), or empty for the latest') -%}
        {%- endif -%}
        {%- if var('refit') | string | lower == 'true' -%}
            {{ exceptions.raise_compiler_error(
                "var model_version=" ~ var('model_version') ~ " only applies with refit: false (scoring with a "
                ~ "stored version); a refitting build always stores a new version. Set it with: "
                ~ "dbt build --vars '{refit: false, model_version: " ~ var('model_version') ~ "}'"
            ) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}


{% macro validated_var(name) %}
    {#- var(name), after validate_vars() (when executing: at parse time vars are not
        checked, and nothing runs). For macros that render a var into SQL. -#}
    {%- if execute -%}
        {%- do validate_vars() -%}
    {%- endif -%}
    {{ return(var(name)) }}
{% endmacro %}


{% macro check_customers_file(path) %}
    {#- The file exists, is not empty, has the required columns and at least one row. -#}
    {%- do check_customers_file_exists(path) -%}
    {%- set reader = customers_file_reader(path) -%}
    {%- do customers_source_columns(reader) -%}
    {#- One row is enough to know the file is not header-only: no full scan here. -#}
    {%- set rows = run_query(
        'select count(*) from (select 1 from ' ~ reader ~ ' limit 1) as first_row'
    ).columns[0].values()[0] -%}
    {%- if rows == 0 -%}
        {{ exceptions.raise_compiler_error(
            "no customer rows in " ~ path ~ ": the file has a header but no data rows."
        ) }}
    {%- endif -%}
{% endmacro %}


{% macro check_customers_file_exists(path) %}
    {{ return(adapter.dispatch('check_customers_file_exists')(path)) }}
{% endmacro %}

{% macro default__check_customers_file_exists(path) %}
    {#- The file exists and is not empty (DuckDB's glob and read_blob). -#}
    {%- set literal = sql_string_literal(path) -%}
    {%- set found = run_query('select count(*) from glob(' ~ literal ~ ')').columns[0].values()[0] -%}
    {%- if found == 0 -%}
        {{ exceptions.raise_compiler_error(
            "customers_path '" ~ path ~ "' does not exist (relative paths start at the directory "
            ~ "dbt runs in). Pass an existing .csv, .csv.gz or .parquet file."
        ) }}
    {%- endif -%}
    {%- set size = run_query('select size from read_blob(' ~ literal ~ ')').columns[0].values()[0] -%}
    {%- if size == 0 -%}
        {{ exceptions.raise_compiler_error("no customer rows in " ~ path ~ ": the file is empty.") }}
    {%- endif -%}
{% endmacro %}

{% macro spark__check_customers_file_exists(path) %}
    {#- Spark SQL cannot list files: reading a missing file fails with Spark's own
        "[PATH_NOT_FOUND] Path does not exist: <path>", and an empty one has no columns
        (reported by the column check). -#}
{% endmacro %}


{% macro check_enough_clean_customers() %}
    {#- Called while compiling int_customers_cleaned, after stg_customers is built: stop,
        with the counts, when no customer (or fewer than n_segments) can be used, before
        the segment tables and marts of the last good build are replaced. -#}
    {#- Not at parse time, in a dry run (--empty), or in a unit test (fixture rows). -#}
    {%- if not execute or flags.EMPTY or model.resource_type == 'unit_test' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set stg = ref('stg_customers') -%}
    {#- Nor before stg_customers exists (dbt compile, or sqlfluff, on a fresh clone). -#}
    {%- if load_relation(stg) is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set counts = run_query(
        'select count(*), count(*) filter (where is_valid) from ' ~ stg
    ).rows[0] -%}
    {%- set source_rows, clean_rows = counts[0], counts[1] -%}
    {%- set n_segments = var('n_segments') | string | trim | lower -%}
    {%- set needed = 2 if n_segments == 'auto' else n_segments | int -%}
    {%- if clean_rows < needed -%}
        {%- set reasons = run_query(
            "select rejection_reason, count(*) from " ~ stg ~ " where not is_valid"
            ~ " group by 1 order by 2 desc, 1 limit 3"
        ) -%}
        {%- set examples = [] -%}
        {%- for row in reasons.rows -%}
            {%- do examples.append(row[0] ~ ' (' ~ row[1] ~ ' rows)') -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            "only " ~ clean_rows ~ " clean customers: " ~ (source_rows - clean_rows) ~ " of "
            ~ source_rows ~ " source rows were rejected, and " ~ needed ~ " are needed for n_segments="
            ~ var('n_segments') ~ ". Most common reasons: " ~ (examples | join('; ') or 'none')
            ~ ". See the rejected_customers table for every row and its reason."
        ) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
