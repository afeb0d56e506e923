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


{% macro max_count() -%}
    {#- The largest count (or tenure) kept: int_customers_cleaned casts counts to 32-bit
        integers, and a larger value would fail the whole build there. -#}
    2147483647
{%- endmacro %}


{% macro max_amount() -%}
    {#- The largest amount kept (a million billion currency units): far above any card
        account in any currency, and small enough that sums, squares and cubes of
        billions of amounts (averages, deviations, skewness in the marts) stay finite
        doubles. A finite but huge amount such as 1e300 would overflow them to inf. -#}
    1e15
{%- endmacro %}


{% macro max_customer_id_length() -%}
    {#- Longer ids are junk (a UUID has 36 characters, a SHA-256 in hex 64). -#}
    64
{%- endmacro %}


{% macro has_control_characters(text) -%}
    {{ return(adapter.dispatch('has_control_characters')(text)) }}
{%- endmacro %}

{% macro default__has_control_characters(text) -%}
    regexp_matches({{ text }}, '[[:cntrl:]]')
{%- endmacro %}

{% macro spark__has_control_characters(text) -%}
    {#- Java regular expressions name the class \p{Cntrl}. -#}
    ({{ text }} rlike '\\p{Cntrl}')
{%- endmacro %}


{% macro is_blank(text) -%}
    {#- Empty, or only whitespace: spaces (trim also strips non-breaking and other
        Unicode spaces), tabs and line breaks. -#}
    {{ return(adapter.dispatch('is_blank')(text)) }}
{%- endmacro %}

{% macro default__is_blank(text) -%}
    regexp_matches({{ text }}, '^[[:space:]]*$')
{%- endmacro %}

{% macro spark__is_blank(text) -%}
    ({{ text }} rlike '^\\s*$')
{%- endmacro %}


{% macro reason_value(text) -%}
    {#- A source value as a rejection reason quotes it: at most 40 characters (then
        '...'), control characters (newlines, tabs, NUL) shown as '?', so that a reason
        stays one short line. rejected_customers keeps the full source text. -#}
    {{ return(adapter.dispatch('reason_value')(text)) }}
{%- endmacro %}

{% macro default__reason_value(text) -%}
    regexp_replace(substring({{ text }}, 1, 40), '[[:cntrl:]]', '?', 'g')
    || case when {{ dbt.length(text) }} > 40 then '...' else '' end
{%- endmacro %}

{% macro spark__reason_value(text) -%}
    {#- Spark replaces every match, and names the class \p{Cntrl}. -#}
    regexp_replace(substring({{ text }}, 1, 40), '\\p{Cntrl}', '?')
    || case when {{ dbt.length(text) }} > 40 then '...' else '' end
{%- endmacro %}


{% macro number_rejection_reason(column, kind, required=true) -%}
    {#-
        Why the value of `column` makes its row unusable, or null when it is usable.
        `column` is the typed column and `raw_<column>` the source value; kind is one of
        amount (>= 0 and at most max_amount()), frequency (>= 0 and at most var
        max_clampable_frequency), count (a whole number from 0 to max_count()) or tenure
        (a whole number within min/max_tenure, and at most max_count()).
        A missing value (empty or blank text) is a reason only when `required`.
        The first branch passes a usable value on the typed column alone. The source
        value is read as text only on the rows it does not pass (a later branch is only
        evaluated for the rows no earlier branch took), so a typed file's millions of
        good numbers are never formatted as text. A reason quotes the value through
        reason_value (short, one line).
    -#}
    {%- set label = column | upper -%}
    {%- set raw = 'trim(cast(raw_' ~ column ~ ' as ' ~ dbt.type_string() ~ '))' -%}
    {%- set value = reason_value(raw) -%}
    case
        when {{ column }} >= 0 and {{ is_finite(column) }}
    {%- if kind == 'amount' %}
            and {{ column }} <= {{ max_amount() }}
    {%- endif %}
    {%- if kind == 'frequency' %}
            and {{ column }} <= {{ var('max_clampable_frequency') }}
    {%- endif %}
    {%- if kind in ('count', 'tenure') %}
            and {{ column }} = floor({{ column }})
            and {{ column }} <= {{ max_count() }}
    {%- endif %}
    {%- if kind == 'tenure' %}
            and {{ column }} >= {{ var('min_tenure') }}
            and {{ column }} <= {{ var('max_tenure') }}
    {%- endif %}
            then null
        when {{ raw }} is null or {{ is_blank(raw) }}
            then {{ "'" ~ label ~ " is missing'" if required else "null" }}
        when {{ column }} is null
            then '{{ label }} is not a number: ''' || {{ value }} || ''''
        when not {{ is_finite(column) }}
            then '{{ label }} is not a finite number: ' || {{ value }}
        when {{ column }} < 0
            then '{{ label }} is negative: ' || {{ value }}
    {%- if kind == 'amount' %}
        when {{ column }} > {{ max_amount() }}
            then '{{ label }} is above {{ max_amount() }}: ' || {{ value }}
    {%- endif %}
    {%- if kind == 'frequency' %}
        when {{ column }} > {{ var('max_clampable_frequency') }}
            then '{{ label }} is above {{ var("max_clampable_frequency") }}: ' || {{ value }}
    {%- endif %}
    {%- if kind in ('count', 'tenure') %}
        when {{ column }} <> floor({{ column }})
            then '{{ label }} is not a whole number: ' || {{ value }}
    {%- endif %}
    {%- if kind == 'tenure' %}
        when {{ column }} < {{ var('min_tenure') }} or {{ column }} > {{ var('max_tenure') }}
            then '{{ label }} is outside {{ var("min_tenure") }} to {{ var("max_tenure") }}: '
            || {{ value }}
    {%- endif %}
    {%- if kind in ('count', 'tenure') %}
        when {{ column }} > {{ max_count() }}
            then '{{ label }} is above {{ max_count() }}: ' || {{ value }}
    {%- endif %}
    end
{%- endmacro %}


{% macro customer_id_rejection_reason() -%}
    {#- Why CUST_ID makes its row unusable, or null. `customer_id` is the trimmed,
        upper-cased id. Any printable text is an id (quotes and non-ASCII letters too);
        control characters (a newline, a tab, NUL) or more than max_customer_id_length()
        characters make it junk. Of rows sharing an id, the first in the source wins. -#}
    case
        when customer_id is null then 'CUST_ID is missing'
        when {{ has_control_characters('customer_id') }} and {{ is_blank('customer_id') }}
            then 'CUST_ID is missing'
        when {{ has_control_characters('customer_id') }}
            then 'CUST_ID has control characters: '''
            || {{ reason_value('customer_id') }} || ''''
        when {{ dbt.length('customer_id') }} > {{ max_customer_id_length() }}
            then 'CUST_ID is longer than {{ max_customer_id_length() }} characters: '''
            || {{ reason_value('customer_id') }} || ''''
        when is_repeated_customer_id
            then
                'CUST_ID ' || customer_id || ' is a duplicate of source row '
                || cast(first_source_row_number as {{ dbt.type_string() }})
    end
{%- endmacro %}
