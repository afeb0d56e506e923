-- The time spine MetricFlow needs (one row per day): it joins metrics to it for time
-- grains and cumulative windows. The marts are a snapshot of one build, so the only
-- date in the semantic layer is the build date (build_date in the sem_ views); the spine
-- covers every date a build can plausibly carry.

with

days as (

    {{ dbt.date_spine(
        'day',
        "cast('2020-01-01' as date)",
        "cast('2041-01-01' as date)"
    ) }}

),

final as (

    select cast(date_day as date) as date_day
    from days

)

select * from final
