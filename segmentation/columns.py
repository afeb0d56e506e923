"""Column contracts shared by the generator, the tests and the Python models."""

from __future__ import annotations

#: Columns of the public "Credit Card Dataset for Clustering", in file order. Raw files
#: given through ``customers_path`` must have these (matched case-insensitively). A copy,
#: for Python, of the columns of source raw.customers in
#: ``models/staging/_staging__sources.yml`` (the one list, which the dbt macros read);
#: ``tests/test_raw_columns.py`` fails when the two differ.
RAW_COLUMNS: tuple[str, ...] = (
    "CUST_ID",
    "BALANCE",
    "BALANCE_FREQUENCY",
    "PURCHASES",
    "ONEOFF_PURCHASES",
    "INSTALLMENTS_PURCHASES",
    "CASH_ADVANCE",
    "PURCHASES_FREQUENCY",
    "ONEOFF_PURCHASES_FREQUENCY",
    "PURCHASES_INSTALLMENTS_FREQUENCY",
    "CASH_ADVANCE_FREQUENCY",
    "CASH_ADVANCE_TRX",
    "PURCHASES_TRX",
    "CREDIT_LIMIT",
    "PAYMENTS",
    "MINIMUM_PAYMENTS",
    "PRC_FULL_PAYMENT",
    "TENURE",
)

#: Engineered features (columns of ``int_customer_features_engineered``) that the
#: segment model scales, reduces and clusters. Each is documented in
#: ``models/intermediate/_intermediate__models.yml``.
CLUSTERING_FEATURES: tuple[str, ...] = (
    "log_balance",
    "balance_frequency",
    "log_monthly_purchases",
    "log_monthly_oneoff_purchases",
    "log_monthly_installments_purchases",
    "log_monthly_cash_advance",
    "purchases_frequency",
    "oneoff_purchases_frequency",
    "purchases_installments_frequency",
    "cash_advance_frequency",
    "log_monthly_purchases_trx",
    "log_monthly_cash_advance_trx",
    "log_average_purchase_ticket",
    "log_credit_limit",
    "credit_utilisation",
    "log_monthly_payments",
    "log_payment_to_minimum_ratio",
    "prc_full_payment",
)
