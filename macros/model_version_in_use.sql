{#-
    The model version a build scores with, as a SQL expression: var model_version when it
    is set (only with refit false), else the latest version in the registry. Models that
    call it must also ref('segmentation_models') themselves.
-#}
{% macro model_version_in_use() %}
    {%- set requested = validated_var('model_version') | string | trim | lower -%}
    {%- if requested in ['', 'none', 'latest'] -%}
        (select max(model_version) from {{ ref('segmentation_models') }})
    {%- else -%}
        {{ requested | int }}
    {%- endif -%}
{% endmacro %}
