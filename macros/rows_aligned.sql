{#-
    Whether two tables hold the same key values in the same row order, so that a join of
    the two on that key can pair their rows by position instead (DuckDB's positional
    join: both tables read side by side, no hash table of every customer, nothing
    spilled to disk under the build's memory limit).

    The per-customer tables that int_customers_cleaned feeds (the features, the reduced
    coordinates, customer_segments) keep its row order: each is written from the one
    before it without a join, a sort or a filter, and DuckDB preserves insertion order.
    Nothing promises that, so it is checked, not assumed: one streaming pass over the two
    key columns (under a second on 10 million customers). Any difference (another order,
    a row more or less, a missing table) and the caller joins on the key as usual, with
    the same result.
-#}

{% macro rows_aligned(left, right, key) %}
    {{ return(adapter.dispatch('rows_aligned')(left, right, key)) }}
{% endmacro %}


{% macro default__rows_aligned(left, right, key) %}
    {#- Other engines (Spark) have no positional join: always join on the key. -#}
    {{ return(false) }}
{% endmacro %}


{% macro duckdb__rows_aligned(left, right, key) %}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for relation in (left, right) -%}
        {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
            {#- Not built yet (as when sqlfluff compiles the project). -#}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set mismatched = run_query(
        "select count(*) from (select " ~ key ~ " from " ~ left ~ ") as left_rows"
        ~ " positional join (select " ~ key ~ " from " ~ right ~ ") as right_rows"
        ~ " where left_rows." ~ key ~ " is distinct from right_rows." ~ key
    ).columns[0].values()[0] -%}
    {%- if mismatched != 0 -%}
        {{ log(model.name ~ ": " ~ left.identifier ~ " and " ~ right.identifier ~ " are not in the same row order ("
            ~ mismatched ~ " row(s) differ): joining them on " ~ key ~ ".", info=true) }}
    {%- endif -%}
    {{ return(mismatched == 0) }}
{% endmacro %}
