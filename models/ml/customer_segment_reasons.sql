{{ config(materialized='view') }}

-- Why each customer is in its segment and not the runner-up: up to three rows per
-- customer, the features that pull it most towards its own centroid, with a sentence
-- quoting the segment medians (segmentation/scoring/explanations.py). A view: the SQL the
-- version in use renders (model_scoring_sql.explanation_sql, through the explain_customers
-- macro) runs when the view is read, so the build writes no row of it, and a query for a
-- few customers computes only theirs.

select * from {{ explain_customers(ref('int_customer_features_engineered')) }}  -- noqa: AM04
