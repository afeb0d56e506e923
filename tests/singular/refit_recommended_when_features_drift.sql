{{ config(severity='warn') }}

-- Warns (never fails) when a clustering feature of this build's customers has drifted
-- from the train split of the model version in use: population stability index above
-- var drift_psi_threshold (feature_drift.is_drifted). The rows name the features; the
-- feature_drift model logs "refit recommended: ..." with them. Refit with
-- dbt build --vars '{refit: true}'.

select
    feature,
    psi,
    js_distance,
    model_version,
    'refit recommended: ' || feature || ' has drifted (PSI '
    || cast(round(psi, 2) as {{ dbt.type_string() }}) || ')' as recommendation
from {{ ref('feature_drift') }}
where is_drifted
