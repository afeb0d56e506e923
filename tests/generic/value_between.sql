{% test value_between(model, column_name, min_value=none, max_value=none) %}
{#- Rows whose value is outside [min_value, max_value] (either bound optional). -#}

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
