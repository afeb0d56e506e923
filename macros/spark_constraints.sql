{% macro spark__persist_constraints(relation, model) %}
    {#- The constraints of an enforced contract on Spark. dbt-spark persists them with
        ALTER TABLE (not_null and check only; primary_key and unique only warn), which only
        Delta tables accept, and it does so whenever file_format is unset: on this
        project's plain Spark tables that ALTER TABLE fails. DuckDB enforces every
        constraint as it writes the table; here, instead, one query counts the rows that
        break each constraint of the model (not_null, primary_key, unique, check; column
        or model level) right after the table is built, and the model fails with a
        message naming each broken constraint and its columns. A Delta table also gets
        dbt-spark's own ALTER TABLE constraints. -#}
    {%- if not config.get('contract').enforced -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if config.get('file_format') == 'delta' -%}
        {%- do dbt.spark__persist_constraints(relation, model) -%}
    {%- endif -%}
    {%- set checks = contract_constraint_checks(model) -%}
    {%- if not checks -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select
        {%- for check in checks %}
            {{ check.violations }} as violations_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
        from {{ relation }}
    {%- endset -%}
    {%- set counts = run_query(query).rows[0] -%}
    {%- set broken = [] -%}
    {%- for check in checks -%}
        {%- if (counts[loop.index0] or 0) > 0 -%}
            {%- do broken.append(check.label ~ ": " ~ counts[loop.index0] ~ " rows") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if broken -%}
        {{ exceptions.raise_compiler_error(
            "Contract constraints of " ~ relation ~ " violated: " ~ broken | join("; ")
        ) }}
    {%- endif -%}
{% endmacro %}


{% macro contract_constraint_checks(model) %}
    {#- [{label, violations}] for the constraints of a model: violations is a SQL
        aggregate counting the rows that break the constraint (for a key, the rows beyond
        the first of each value, and the rows with a null key column). -#}
    {%- set constraints = [] -%}
    {%- for name, column in model.columns.items() -%}
        {%- for constraint in column.constraints or [] -%}
            {%- do constraints.append({'type': constraint.type, 'columns': [name],
                                       'expression': constraint.expression}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for constraint in model.constraints or [] -%}
        {%- do constraints.append({'type': constraint.type, 'columns': constraint.columns or [],
                                   'expression': constraint.expression}) -%}
    {%- endfor -%}
    {%- set checks = [] -%}
    {%- for constraint in constraints -%}
        {%- set columns = constraint.columns | join(', ') -%}
        {%- set present -%}
            {%- for column in constraint.columns -%}{{ column }} is not null{{ " and " if not loop.last }}{%- endfor -%}
        {%- endset -%}
        {%- if constraint.type == 'not_null' -%}
            {%- do checks.append({'label': 'not_null on ' ~ columns,
                                  'violations': 'coalesce(sum(case when ' ~ columns ~ ' is null then 1 else 0 end), 0)'}) -%}
        {%- elif constraint.type == 'primary_key' -%}
            {%- do checks.append({'label': 'primary_key on (' ~ columns ~ ')',
                                  'violations': 'count(*) - count(distinct ' ~ columns ~ ')'}) -%}
        {%- elif constraint.type == 'unique' -%}
            {%- do checks.append({'label': 'unique on (' ~ columns ~ ')',
                                  'violations': 'coalesce(sum(case when ' ~ present ~ ' then 1 else 0 end), 0) - count(distinct ' ~ columns ~ ')'}) -%}
        {%- elif constraint.type == 'check' -%}
            {%- do checks.append({'label': 'check (' ~ constraint.expression ~ ')',
                                  'violations': 'coalesce(sum(case when not (' ~ constraint.expression ~ ') then 1 else 0 end), 0)'}) -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                "Constraint " ~ constraint.type ~ " on " ~ model.name ~ " is not checked on Spark."
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(checks) }}
{% endmacro %}
