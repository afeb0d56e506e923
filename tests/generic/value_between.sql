{% test value_between(model, column_name, min_value=none, max_value=none) %}
{#- Rows whose value is outside [min_value, max_value] (either bound optional). A bound
    is rendered into SQL as it is, so it must be a number; one may come from a var, so the
    vars are checked first (their message names the var). -#}
{%- if execute -%}
    {%- do validate_vars() -%}
    {%- for bound in [min_value, max_value] if bound is not none and not _is_number(bound) -%}
        {{ exceptions.raise_compiler_error(
            "value_between on " ~ column_name ~ ": the bounds must be numbers, got '" ~ bound ~ "'."
        ) }}
    {%- endfor -%}
{%- endif %}

select {{ column_name }} as out_of_range_value
from {{ model }}
where
    {{ column_name }} is not null
    and (
        false
        {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
        {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
    )

{% endtest %}
