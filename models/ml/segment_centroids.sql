-- One row per model version, segment and feature: the segment's centroid in scaled units
-- (standard deviations from the average train customer of the version) and in the
-- feature's own units.

with

segments as (

    select * from {{ ref('int_model_version_segments') }}

),

centroid_values as (

    -- The i-th feature with the i-th value of each centroid list.
    select
        model_version,
        segment_id,
        segment_name,
        {{ zipped_lists_to_rows(
            'feature_position', ['features', 'centroid_scaled', 'centroid_real']
        ) }}
    from segments

),

renamed as (

    select
        model_version,
        segment_id,
        segment_name,
        feature_position,
        features as feature,
        centroid_scaled,
        centroid_real
    from centroid_values

),

final as (

    select * from renamed

)

select * from final
