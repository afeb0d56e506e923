-- The time spine MetricFlow needs (one row per day): it joins metrics to it for time
-- grains and cumulative windows. The marts are a snapshot of one build, so the only
-- date in the semantic layer is the build date (build_date in the sem_ views); the spine
-- covers every date a build can plausibly carry. DuckDB and Spark generate the days in
-- one function call (dbt's portable date_spine cross-joins powers of two: a second per build).

with

days as (

    {% if target.type == 'spark' -%}
    select explode(sequence(date '2020-01-01', date '2040-12-31', interval 1 day)) as date_day
    {%- else -%}
    select unnest(generate_series(date '2020-01-01', date '2040-12-31', interval 1 day)) as date_day
    {%- endif %}

),

final as (

    select cast(date_day as date) as date_day
    from days

)

select * from final
