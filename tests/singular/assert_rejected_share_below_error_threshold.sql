-- Fails the build when more than var rejected_share_error (default 20%) of the source
-- rows were rejected: the file is probably not what it should be.
-- Runs after int_customers_cleaned, so that a file with no usable row stops there with
-- the counts: depends_on: {{ ref('int_customers_cleaned') }}
{{ config(severity='error') }}

{{ rejected_share_above(validated_var('rejected_share_error')) }}
