-- The semantic layer's view of rpt_rejection_reasons (semantic model rejection_reasons):
-- one row per kind of problem, and the build date, its time dimension.

with

reasons as (

    select * from {{ ref('rpt_rejection_reasons') }}

),

final as (

    select
        rejection_kind,
        rejected_row_count,
        {{ build_date() }} as build_date
    from reasons

)

select * from final
