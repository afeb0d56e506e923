-- The elbow curve of the model version in use, one row per k tried: read from the
-- registry, so it always describes the segments in customer_segments.

with

registry as (

    select * from {{ ref('segmentation_models') }}

),

version_in_use as (

    select *
    from registry
    where model_version = {{ model_version_in_use() }}

),

curve_points as (

    select
        model_version,
        elbow_sample_size,
        {{ list_to_rows('elbow') }} as elbow_point
    from version_in_use

),

curve as (

    -- struct.* spreads the fields of a curve point into columns.
    select
        model_version,  -- noqa: RF03
        elbow_sample_size,  -- noqa: RF03
        elbow_point.*  -- noqa: RF03
    from curve_points

),

final as (

    select
        k,
        inertia,
        silhouette,
        davies_bouldin,
        calinski_harabasz,
        is_knee,
        is_selected,
        elbow_sample_size,
        model_version
    from curve

)

select * from final
