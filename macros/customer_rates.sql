{% macro credit_utilisation(balance, credit_limit) -%}
    {#- Balance over credit limit, capped at 2 (over-limit balances exist; a zero limit
        with a balance counts as the cap): the feature of int_customer_features_engineered,
        and dim_customers' column, computed from the clean amounts in one place. -#}
    case
        when {{ credit_limit }} > 0 then least({{ balance }} / {{ credit_limit }}, 2.0)
        when {{ balance }} > 0 then 2.0
        else 0.0
    end
{%- endmacro %}


{% macro monthly(amount, tenure='tenure') -%}
    {#- An amount over the observation window as a per-month rate (tenure: 6 to 12
        months), as the features and dim_customers state it. -#}
    {{ amount }} / {{ tenure }}
{%- endmacro %}
