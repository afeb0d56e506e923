"""Properties of the synthetic demo customers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.columns import RAW_COLUMNS
from segmentation.generator import PLANTED_GROUPS, generate_customers, main, write_table
from tests.conftest import DEMO_GROUPS_CSV, DEMO_SEED_CSV

FREQUENCIES = [
    "BALANCE_FREQUENCY",
    "PURCHASES_FREQUENCY",
    "ONEOFF_PURCHASES_FREQUENCY",
    "PURCHASES_INSTALLMENTS_FREQUENCY",
    "PRC_FULL_PAYMENT",
]
AMOUNTS = ["BALANCE", "PURCHASES", "ONEOFF_PURCHASES", "INSTALLMENTS_PURCHASES", "CASH_ADVANCE", "PAYMENTS"]


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_customers(50_000, seed=7)


def test_columns_are_exactly_those_of_the_public_data_set(sample):
    customers, groups = sample
    assert list(customers.columns) == list(RAW_COLUMNS)
    assert list(groups.columns) == ["customer_id", "planted_group"]
    assert customers["CUST_ID"].is_unique
    assert (groups["customer_id"] == customers["CUST_ID"]).all()


def test_same_seed_same_data_other_seed_other_data():
    first, first_groups = generate_customers(2_000, seed=1)
    again, again_groups = generate_customers(2_000, seed=1)
    other, _ = generate_customers(2_000, seed=2)
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first_groups, again_groups)
    assert not first["BALANCE"].equals(other["BALANCE"])


def test_frequencies_are_shares_of_months(sample):
    customers, _ = sample
    for column in FREQUENCIES:
        assert customers[column].between(0, 1).all(), column
    cash_advance_frequency = customers["CASH_ADVANCE_FREQUENCY"]
    above_one = (cash_advance_frequency > 1).sum()
    assert 0 < above_one < 0.005 * len(customers), "a few CASH_ADVANCE_FREQUENCY above 1, as in the public data"
    assert cash_advance_frequency.max() <= 1.5


def test_amounts_are_right_skewed_with_many_zeros(sample):
    customers, _ = sample
    for column in AMOUNTS:
        assert (customers[column] >= 0).all(), column
        assert customers[column].skew() > 2, column
    assert (customers["CASH_ADVANCE"] == 0).mean() > 0.4
    assert (customers["ONEOFF_PURCHASES"] == 0).mean() > 0.3


def test_purchases_are_oneoff_plus_installments_but_for_a_few(sample):
    customers, _ = sample
    gap = (customers["PURCHASES"] - customers["ONEOFF_PURCHASES"] - customers["INSTALLMENTS_PURCHASES"]).abs()
    assert (gap < 0.011).mean() > 0.99
    assert (gap > 1).sum() > 0


def test_tenure_six_to_twelve_mostly_twelve(sample):
    customers, _ = sample
    assert customers["TENURE"].between(6, 12).all()
    assert set(customers["TENURE"].unique()) == set(range(6, 13))
    assert (customers["TENURE"] == 12).mean() > 0.8


def test_missing_values_like_the_public_data(sample):
    customers, _ = sample
    assert customers["MINIMUM_PAYMENTS"].isna().mean() == pytest.approx(0.035, abs=0.005)
    assert 1 <= customers["CREDIT_LIMIT"].isna().sum() <= 0.001 * len(customers)
    other = customers.drop(columns=["MINIMUM_PAYMENTS", "CREDIT_LIMIT"])
    assert not other.isna().any().any()
    # As in the public data, most customers without a minimum payment paid nothing.
    assert (customers.loc[customers["MINIMUM_PAYMENTS"].isna(), "PAYMENTS"] == 0).mean() > 0.6


def test_counts_are_whole_and_consistent_with_amounts(sample):
    customers, _ = sample
    for column in ["PURCHASES_TRX", "CASH_ADVANCE_TRX", "TENURE"]:
        assert np.issubdtype(customers[column].dtype, np.integer), column
    assert ((customers["CASH_ADVANCE"] > 0) == (customers["CASH_ADVANCE_TRX"] > 0)).all()
    assert ((customers["CASH_ADVANCE"] > 0) == (customers["CASH_ADVANCE_FREQUENCY"] > 0)).all()


def test_planted_groups_behave_differently(sample):
    customers, groups = sample
    assert set(groups["planted_group"]) == set(PLANTED_GROUPS)
    by_group = customers.assign(group=groups["planted_group"]).groupby("group")
    cash = by_group["CASH_ADVANCE_FREQUENCY"].mean()
    assert cash.idxmax() == "cash_advance_revolvers"
    assert by_group["PRC_FULL_PAYMENT"].mean().idxmax() == "full_paying_transactors"
    assert by_group["PURCHASES_INSTALLMENTS_FREQUENCY"].mean().idxmax() == "instalment_buyers"
    activity = customers["PURCHASES"] + customers["CASH_ADVANCE"]
    assert activity.groupby(groups["planted_group"]).mean().idxmin() == "low_activity"


def test_rejects_a_non_positive_row_count():
    with pytest.raises(ValueError, match="n_rows must be a positive"):
        generate_customers(0)


@pytest.mark.parametrize("name", ["customers.csv", "customers.csv.gz", "customers.parquet"])
def test_command_line_writes_each_format(tmp_path, name):
    out, groups_out = tmp_path / name, tmp_path / "groups.csv"
    main(["--rows", "50", "--seed", "3", "--out", str(out), "--groups-out", str(groups_out)])
    read = pd.read_parquet(out) if name.endswith(".parquet") else pd.read_csv(out)
    assert list(read.columns) == list(RAW_COLUMNS)
    assert len(read) == 50
    assert len(pd.read_csv(groups_out)) == 50


def test_write_table_refuses_an_unknown_format(tmp_path):
    customers, _ = generate_customers(5)
    with pytest.raises(ValueError, match=r"\.csv, \.csv\.gz or \.parquet"):
        write_table(customers, tmp_path / "customers.xlsx")


def test_committed_seed_is_the_generator_output():
    """The demo seed and its planted groups are exactly what `make demo-data` writes."""
    customers, groups = generate_customers(9_000)
    seed = pd.read_csv(DEMO_SEED_CSV)
    pd.testing.assert_frame_equal(seed, customers, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(pd.read_csv(DEMO_GROUPS_CSV), groups)
