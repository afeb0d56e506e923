-- Why source rows were rejected, one row per kind of problem (the column and the rule,
-- without the value), so that analysts see at a glance what to fix at the source.
-- A row with several problems counts once under each.

with

rejected as (

    select
        source_row_number,
        rejection_reason
    from {{ ref('rejected_customers') }}

),

source_rows as (

    select count(*) as source_row_count from {{ ref('stg_customers') }}

),

reasons as (

    -- One row per problem: the reason clauses are joined by '; '.
    select
        source_row_number,
        {{ split_to_rows('rejection_reason', '; ') }} as reason
    from rejected

),

kinds as (

    -- "BALANCE is not a number: 'abc'" -> "BALANCE is not a number"
    select
        source_row_number,
        regexp_replace(reason, ':.*$', '') as rejection_kind
    from reasons

),

final as (

    select
        kinds.rejection_kind,
        count(distinct kinds.source_row_number) as rejected_row_count,
        cast(count(distinct kinds.source_row_number) as double)
        / nullif(source_rows.source_row_count, 0) as share_of_source_rows
    from kinds
    cross join source_rows
    group by kinds.rejection_kind, source_rows.source_row_count

)

select * from final
