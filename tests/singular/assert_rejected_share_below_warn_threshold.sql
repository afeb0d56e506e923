-- Warns when more than var rejected_share_warn (default 1%) of the source rows were
-- rejected: the build goes on, but someone should look at rejected_customers.
-- Runs after int_customers_cleaned, so that a file with no usable row stops there with
-- the counts: depends_on: {{ ref('int_customers_cleaned') }}
{{ config(severity='warn') }}

{{ rejected_share_above(validated_var('rejected_share_warn')) }}
