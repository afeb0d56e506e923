-- Nothing is lost: every source row is either a clean customer or a rejected row.
-- Returns a row (and fails) when the counts do not add up.

with

source_rows as (

    select count(*) as row_count from ({{ customers_source() }}) as raw_rows

),

clean_rows as (

    select count(*) as row_count from {{ ref('int_customers_cleaned') }}

),

rejected_rows as (

    select count(*) as row_count from {{ ref('rejected_customers') }}

),

final as (

    select
        source_rows.row_count as source_row_count,
        clean_rows.row_count as clean_row_count,
        rejected_rows.row_count as rejected_row_count
    from source_rows
    cross join clean_rows
    cross join rejected_rows

)

select * from final
where source_row_count <> clean_row_count + rejected_row_count
