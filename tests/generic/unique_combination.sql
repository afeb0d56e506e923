{% test unique_combination(model, columns) %}
{#- Combinations of `columns` that occur more than once (a composite primary key). -#}

select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
