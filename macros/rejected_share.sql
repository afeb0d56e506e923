{% macro rejected_share_above(threshold) %}
    {#- One row (a test failure) when the share of rejected source rows exceeds threshold
        (a number: var rejected_share_warn or rejected_share_error, validated). -#}
    {%- if execute and not _is_number(threshold) -%}
        {{ exceptions.raise_compiler_error(
            "rejected_share_above: the threshold must be a number, got '" ~ threshold ~ "'."
        ) }}
    {%- endif -%}
    with

    counts as (

        select
            count(*) as source_row_count,
            sum(case when is_valid then 0 else 1 end) as rejected_row_count
        from {{ ref('stg_customers') }}

    ),

    final as (

        select
            source_row_count,
            rejected_row_count,
            cast(rejected_row_count as double) / source_row_count as rejected_share,
            {{ threshold | float }} as threshold
        from counts
        where
            source_row_count > 0
            and cast(rejected_row_count as double) / source_row_count > {{ threshold | float }}

    )

    select * from final
{% endmacro %}
