"""Column contracts shared by the generator, the tests and the Python models."""

from __future__ import annotations

#: Columns of the public "Credit Card Dataset for Clustering", in file order. Raw files
#: given through ``customers_path`` must have these (matched case-insensitively). A copy,
#: for Python, of the columns of source raw.customers in
#: ``models/staging/_staging__sources.yml`` (the one list, which the dbt macros read);
#: ``tests/unit/test_raw_columns.py`` fails when the two differ.
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

#: The features the segment model clusters are not listed here: they are declared once,
#: as the columns of ``int_customer_features_engineered`` marked
#: ``meta: {clustering_feature: true}`` in models/intermediate/_intermediate__models.yml,
#: and the fit reads them from the ``segmentation_features`` model built from that list.
