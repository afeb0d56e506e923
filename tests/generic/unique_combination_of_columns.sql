{% test unique_combination_of_columns(model, combination_of_columns) %}
{#- Combinations of the columns that occur more than once: a (composite) primary key.
    Named and called as dbt_utils' test of the same name (no hub packages here), so that
    dbt infers the model's primary_key from it (the manifest's primary_key) and project
    checkers that know dbt_utils' key test recognise it. Models whose key column_checks
    already checks declare their key with this test disabled (docs/governance.md). -#}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
