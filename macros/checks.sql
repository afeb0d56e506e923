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
        {%- do check_publish_target() -%}
    {%- endif -%}
    {#- A hook must render to SQL: a no-op statement. -#}
    select 1 as inputs_checked
{% endmacro %}


{% macro _var_message(name, value, accepted, example) %}
    {{- return(
        "var " ~ name ~ " must be " ~ accepted ~ ", got '" ~ value ~ "'. Set it with: dbt build --vars '{"
        ~ name ~ ": " ~ example ~ "}' (see docs/parameters.md)."
    ) -}}
{% endmacro %}


{% macro _is_number(value) %}
    {#- A finite decimal number, nothing else (\Z: not even a trailing newline), so that
        a validated value can be rendered into SQL as it is (the pattern and the limit are
        segmentation/vars.py's, in macros/var_spec.sql). -#}
    {%- set text = value | string -%}
    {{ return(modules.re.match(var_number_pattern(), text) is not none
        and (text | float | abs) < var_number_limit()) }}
{% endmacro %}


{% macro _is_whole_number(value, minimum) %}
    {%- set text = value | string | trim -%}
    {{ return(_is_number(text) and (text | float) == (text | float | int) and (text | float) >= minimum) }}
{% endmacro %}


{% macro _var_is_valid(spec, value) %}
    {#- Whether value is one var spec (macros/var_spec.sql) accepts: the same rule as
        VarSpec.parse in segmentation/vars.py (tests/unit/test_vars.py compares the two). -#}
    {%- set text = value | string | trim | lower -%}
    {%- if spec.none_words and value is not boolean and text in spec.none_words -%}
        {{ return(true) }}
    {%- elif spec.kind == 'path' -%}
        {{ return((value is none or value is string) and not (spec.required and (value or '') | trim == '')) }}
    {%- elif spec.kind == 'whole' -%}
        {{ return(value is not boolean and _is_whole_number(value, spec.minimum or 0)) }}
    {%- elif spec.kind == 'number' or spec.kind == 'count_or_share' -%}
        {%- if value is boolean or not _is_number(value) -%}
            {{ return(false) }}
        {%- endif -%}
        {%- set number = value | string | float -%}
        {%- if spec.kind == 'count_or_share' -%}
            {{ return((number > 0 and number < 1) or (number >= 1 and number == (number | int))) }}
        {%- endif -%}
        {{ return((spec.minimum is none or number >= spec.minimum)
            and (spec.maximum is none or number <= spec.maximum)
            and (spec.exclusive_minimum is none or number > spec.exclusive_minimum)
            and (spec.exclusive_maximum is none or number < spec.exclusive_maximum)) }}
    {%- elif spec.kind == 'choice' -%}
        {{ return(text in spec.choices) }}
    {%- elif spec.kind == 'bool' -%}
        {#- not trimmed: the enabled: configs compare var('refit') | string | lower as it is -#}
        {{ return(value | string | lower in ['true', 'false']) }}
    {%- elif spec.kind == 'whole_list' -%}
        {%- if value is mapping -%}
            {{ return(false) }}
        {%- endif -%}
        {%- set items = value if value is iterable and value is not string
            else modules.re.split('[\\s,\\[\\]()]+', value | string) | select | list -%}
        {%- for item in items if item is boolean or not _is_whole_number(item, spec.minimum or 0) -%}
            {{ return(false) }}
        {%- endfor -%}
        {{ return(true) }}
    {%- endif -%}
    {%- do exceptions.raise_compiler_error("var spec of " ~ spec.name ~ ": unknown kind " ~ spec.kind) -%}
{% endmacro %}


{% macro validate_vars() %}
    {#- Every var, before any work, by its declaration in segmentation/vars.py (generated
        into macros/var_spec.sql): a var that reaches SQL is rendered there only after it
        passed here (a number, one of a list, true/false), or as an escaped string literal
        (the paths; macros/sql_literals.sql). The macros that render vars into SQL call
        this again (validated_var), so `dbt compile` and `dbt show`, which skip
        on-run-start, never render a bad value either. The Python models parse theirs
        with the same declarations (segmentation/params.py). -#}
    {#- Every problem is reported at once, so one build names every var to fix. -#}
    {%- set problems = [] -%}
    {%- set refused = [] -%}
    {%- for spec in var_spec() -%}
        {%- if not _var_is_valid(spec, var(spec.name)) -%}
            {%- do refused.append(spec.name) -%}
            {%- do problems.append(_var_message(spec.name, var(spec.name), spec.accepted, spec.example)) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- The rules between vars, checked when each of their vars is valid on its own. -#}
    {%- if 'min_tenure' not in refused and 'max_tenure' not in refused
        and (var('min_tenure') | int) > (var('max_tenure') | int) -%}
        {%- do problems.append(
            "var min_tenure/max_tenure must be whole numbers of at least 1 with min_tenure <= max_tenure, got '"
            ~ var('min_tenure') ~ "/" ~ var('max_tenure') ~ "'. Set them with: dbt build --vars "
            ~ "'{min_tenure: " ~ _var_spec_named('min_tenure').example
            ~ ", max_tenure: " ~ _var_spec_named('max_tenure').example ~ "}' (see docs/parameters.md)."
        ) -%}
    {%- endif -%}
    {%- set model_version = var('model_version') | string | trim | lower -%}
    {%- if 'model_version' not in refused and 'refit' not in refused
        and model_version not in _var_spec_named('model_version').none_words
        and var('refit') | string | lower == 'true' -%}
        {%- do problems.append(
            "var model_version=" ~ var('model_version') ~ " only applies with refit: false (scoring with a "
            ~ "stored version); a refitting build always stores a new version. Set it with: "
            ~ "dbt build --vars '{refit: false, model_version: " ~ var('model_version') ~ "}'"
        ) -%}
    {%- endif -%}
    {%- if problems | length == 1 -%}
        {{ exceptions.raise_compiler_error(problems[0]) }}
    {%- elif problems -%}
        {{ exceptions.raise_compiler_error(
            problems | length ~ " vars must be fixed:\n- " ~ problems | join("\n- ")
        ) }}
    {%- endif -%}
{% endmacro %}


{% macro _var_spec_named(name) %}
    {%- for spec in var_spec() if spec.name == name -%}
        {{ return(spec) }}
    {%- endfor -%}
    {%- do exceptions.raise_compiler_error("no var " ~ name ~ " is declared in segmentation/vars.py") -%}
{% endmacro %}


{% macro print_refused_var_values(values) %}
    {#- dbt run-operation print_refused_var_values --args '{values: {n_segments: [0, auto]}}':
        prints, as JSON after "refused var values: ", which of the given values (var name
        -> list of values) validate_vars() refuses, by each var's own declaration (the
        rules between vars aside). tests/unit/test_vars.py compares it with segmentation/vars.py. -#}
    {%- set refused = {} -%}
    {%- for name, candidates in values.items() -%}
        {%- set spec = _var_spec_named(name) -%}
        {%- do refused.update({name: []}) -%}
        {%- for value in candidates if not _var_is_valid(spec, value) -%}
            {%- do refused[name].append(value) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ print("refused var values: " ~ tojson(refused)) }}
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


{% macro check_publish_target() %}
    {#- What could refuse the publish at the end of a `dbt build` (an export_path the
        exports link cannot take) is checked now, before the first model, not after the
        whole build (segmentation/serving/publish/plugin.py). -#}
    {%- if flags.WHICH == 'build' and target.type == 'duckdb' -%}
        {%- do run_query("select segmentation_publish_check(" ~ sql_string_literal(var('export_path')) ~ ")") -%}
    {%- endif -%}
{% endmacro %}
