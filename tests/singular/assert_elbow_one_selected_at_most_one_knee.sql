-- segment_elbow marks exactly one selected k and at most one knee; with a numeric
-- n_segments the selected k is that number. Returns a row describing any breach.

with

marks as (

    select
        sum(case when is_selected then 1 else 0 end) as selected_count,
        sum(case when is_knee then 1 else 0 end) as knee_count,
        max(case when is_selected then k end) as selected_k
    from {{ ref('segment_elbow') }}

),

final as (

    select * from marks
    where
        selected_count <> 1
        or knee_count > 1
        {%- if validated_var('n_segments') | string | trim | lower != 'auto' %}
        or selected_k <> {{ var('n_segments') | int }}
        {%- endif %}

)

select * from final
