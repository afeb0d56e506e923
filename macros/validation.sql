{#- Small expressions repeated for every raw numeric column of stg_customers. -#}

{% macro parse_number(raw_column) -%}
    {#- A source value (text, or a number from a typed file such as Parquet) as a double.
        The plain cast takes a number, and text with ASCII spaces around it, without a
        round trip through text; only the values it cannot take are trimmed (trim also
        strips non-breaking and other Unicode spaces, common in spreadsheet exports) and
        cast again (coalesce evaluates that for those rows only). Empty text is missing
        (null); unparseable text is null too, told apart from missing by
        number_rejection_reason. -#}
    coalesce(
        try_cast({{ raw_column }} as double),
        try_cast(trim(cast({{ raw_column }} as {{ dbt.type_string() }})) as double)
    )
{%- endmacro %}


{% macro is_finite(expression) -%}
    {{ return(adapter.dispatch('is_finite')(expression)) }}
{%- endmacro %}

{% macro default__is_finite(expression) -%}
    {#- Infinity and NaN are the only doubles for which x - x is not 0. -#}
    ({{ expression }} - {{ expression }} = 0)
{%- endmacro %}

{% macro duckdb__is_finite(expression) -%}
    isfinite({{ expression }})
{%- endmacro %}


{% macro number_rejection_reason(column, kind, required=true) -%}
    {#-
        Why the value of `column` makes its row unusable, or null when it is usable.
        `column` is the typed column and `raw_<column>` the source value; kind is one of
        amount (>= 0), frequency (>= 0 and at most var max_clampable_frequency),
        count (a whole number >= 0) or tenure (a whole number within min/max_tenure).
        A missing value is a reason only when `required`.
        The first branch passes a usable value on the typed column alone. The source
        value is read as text only on the rows it does not pass (a later branch is only
        evaluated for the rows no earlier branch took), so a typed file's millions of
        good numbers are never formatted as text.
    -#}
    {%- set label = column | upper -%}
    {%- set raw = 'trim(cast(raw_' ~ column ~ ' as ' ~ dbt.type_string() ~ '))' -%}
    case
        when {{ column }} >= 0 and {{ is_finite(column) }}
    {%- if kind == 'frequency' %}
            and {{ column }} <= {{ var('max_clampable_frequency') }}
    {%- endif %}
    {%- if kind in ('count', 'tenure') %}
            and {{ column }} = floor({{ column }})
    {%- endif %}
    {%- if kind == 'tenure' %}
            and {{ column }} >= {{ var('min_tenure') }}
            and {{ column }} <= {{ var('max_tenure') }}
    {%- endif %}
            then null
        when nullif({{ raw }}, '') is null
            then {{ "'" ~ label ~ " is missing'" if required else "null" }}
        when {{ column }} is null
            then '{{ label }} is not a number: ''' || {{ raw }} || ''''
        when not {{ is_finite(column) }}
            then '{{ label }} is not a finite number: ' || {{ raw }}
        when {{ column }} < 0
            then '{{ label }} is negative: ' || {{ raw }}
    {%- if kind == 'frequency' %}
        when {{ column }} > {{ var('max_clampable_frequency') }}
            then '{{ label }} is above {{ var("max_clampable_frequency") }}: ' || {{ raw }}
    {%- endif %}
    {%- if kind in ('count', 'tenure') %}
        when {{ column }} <> floor({{ column }})
            then '{{ label }} is not a whole number: ' || {{ raw }}
    {%- endif %}
    {%- if kind == 'tenure' %}
        when {{ column }} < {{ var('min_tenure') }} or {{ column }} > {{ var('max_tenure') }}
            then '{{ label }} is outside {{ var("min_tenure") }} to {{ var("max_tenure") }}: '
            || {{ raw }}
    {%- endif %}
    end
{%- endmacro %}
