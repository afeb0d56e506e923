-- One row per model version, segment and feature: the segment's centroid in scaled units
-- (standard deviations from the average train customer of the version) and in the
-- feature's own units.

with

segments as (

    select * from {{ ref('int_model_version_segments') }}

),

centroid_values as (

    -- unnest of lists of equal length in one select zips them: the i-th feature with
    -- the i-th centroid value.
    select
        model_version,
        segment_id,
        segment_name,
        unnest(generate_series(1, len(features))) as feature_position,
        unnest(features) as feature,
        unnest(centroid_scaled) as centroid_scaled,
        unnest(centroid_real) as centroid_real
    from segments

),

final as (

    select * from centroid_values

)

select * from final
