{% test column_checks(model, key=none, unique=none, not_null=none, ranges=none, accepted_values=none) %}
{#- Every column guarantee of a model that cannot carry a contract (a dbt Python model, a seed),
    in one query, so one test node instead of one per column and guarantee:

    - key: the primary key's columns; each must be present (not null), and each
      combination unique;
    - unique: more columns whose values must each be unique on their own (a null value
      passes, as dbt's unique test; list the column in not_null too to forbid it);
    - not_null: more columns that must be present;
    - ranges: {column: {min: m, max: n}} (either bound optional, as value_between: a null
      value passes; the bounds must be numbers);
    - accepted_values: {column: [values]} (a null value passes, as dbt's accepted_values).

    One row per violation: failed_check (not_null, unique, min, max or accepted_values),
    column_name (the column, or the key's columns), failing_value (the value, or the
    duplicated key) and row_key (the key of the offending row). dbt reports how many rows
    came back; `dbt test --store-failures` keeps them, so the failing check is named.
    Portable SQL: it runs on DuckDB and on Spark. -#}
{%- set key = key or [] -%}
{%- set unique = unique or [] -%}
{%- set not_null = not_null or [] -%}
{%- set ranges = ranges or {} -%}
{%- set accepted_values = accepted_values or {} -%}
{%- if execute -%}
    {%- for column, bounds in ranges.items() -%}
        {%- for bound_name, bound in bounds.items() -%}
            {%- if bound_name not in ['min', 'max'] or not _is_number(bound) -%}
                {{ exceptions.raise_compiler_error(
                    "column_checks on " ~ model ~ ": the range of " ~ column
                    ~ " takes min and max numbers, got " ~ bound_name ~ ": '" ~ bound ~ "'."
                ) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif -%}
{%- set row_key -%}
    {%- if key -%}
        concat_ws(', ', {% for column in key %}cast({{ column }} as string){{ ", " if not loop.last }}{% endfor %})
    {%- else -%}
        cast(null as string)
    {%- endif -%}
{%- endset -%}
{%- set checks = [] -%}
{%- for column in key + not_null -%}
    {%- do checks.append(
        "select 'not_null' as failed_check, '" ~ column ~ "' as column_name, cast(null as string) as failing_value, "
        ~ row_key ~ " as row_key from " ~ model ~ " where " ~ column ~ " is null"
    ) -%}
{%- endfor -%}
{%- if key -%}
    {%- do checks.append(
        "select 'unique' as failed_check, '" ~ key | join(', ') ~ "' as column_name, " ~ row_key
        ~ " as failing_value, " ~ row_key ~ " as row_key from " ~ model
        ~ " group by " ~ key | join(', ') ~ " having count(*) > 1"
    ) -%}
{%- endif -%}
{%- for column in unique -%}
    {%- do checks.append(
        "select 'unique' as failed_check, '" ~ column ~ "' as column_name, cast(" ~ column
        ~ " as string) as failing_value, cast(null as string) as row_key from " ~ model
        ~ " where " ~ column ~ " is not null group by " ~ column ~ " having count(*) > 1"
    ) -%}
{%- endfor -%}
{%- for column, bounds in ranges.items() -%}
    {%- for bound_name, bound in bounds.items() -%}
        {%- do checks.append(
            "select '" ~ bound_name ~ " " ~ bound ~ "' as failed_check, '" ~ column ~ "' as column_name, cast("
            ~ column ~ " as string) as failing_value, " ~ row_key ~ " as row_key from " ~ model ~ " where "
            ~ column ~ (" < " if bound_name == 'min' else " > ") ~ bound
        ) -%}
    {%- endfor -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}
        {%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {%- do checks.append(
        "select 'accepted_values' as failed_check, '" ~ column ~ "' as column_name, cast(" ~ column
        ~ " as string) as failing_value, " ~ row_key ~ " as row_key from " ~ model ~ " where " ~ column
        ~ " not in (" ~ quoted | join(', ') ~ ")"
    ) -%}
{%- endfor -%}
{%- if not checks -%}
    {{ exceptions.raise_compiler_error("column_checks on " ~ model ~ ": no check given.") }}
{%- endif %}

{% for check in checks -%}
{{ check }}
{% if not loop.last %}union all
{% endif -%}
{%- endfor %}

{% endtest %}
