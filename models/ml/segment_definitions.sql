-- One row per model version and segment: its name, description, the naming rule that
-- gave the name, and its size when it was fitted.

with

segments as (

    select * from {{ ref('int_model_version_segments') }}

),

final as (

    select
        model_version,
        segment_id,
        segment_name,
        description,
        naming_rule,
        naming_z_score,
        train_customer_count,
        cast(train_customer_count as double)
        / version_train_customer_count as train_customer_share,
        model_version = {{ model_version_in_use() }} as is_in_use
    from segments

)

select * from final
