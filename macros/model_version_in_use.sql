{#-
    The model version a build scores with, as a SQL expression: the version that
    customer_segments assigned the segments with. Which version that is (var
    model_version with refit false, else the latest stored version) is decided once, in
    Python (segmentation.scoring.registry.version_in_use, which the Python models call);
    SQL reads the result instead of deciding again. The ref makes every caller depend on
    customer_segments.
-#}
{% macro model_version_in_use() %}
    (select max(model_version) from {{ ref('customer_segments') }})
{% endmacro %}
