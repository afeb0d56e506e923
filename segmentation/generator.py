"""Seeded synthetic credit-card customers with planted behaviour groups.

The demo data has exactly the columns of the public "Credit Card Dataset for Clustering"
(:data:`segmentation.columns.RAW_COLUMNS`) and mimics its shape: right-skewed amounts with
many zeros, frequencies in [0, 1] on a 1/12 grid, ``ONEOFF_PURCHASES +
INSTALLMENTS_PURCHASES`` close to ``PURCHASES``, ``TENURE`` 6 to 12 and mostly 12, about
3.5% empty ``MINIMUM_PAYMENTS``, a few empty ``CREDIT_LIMIT`` and a few
``CASH_ADVANCE_FREQUENCY`` values above 1.

Four behaviour groups are planted (:data:`PLANTED_GROUPS`); the group of each customer is
returned separately so that tests can check the segmentation recovers it. Every draw is
vectorised numpy, so ten million rows take seconds.

Command line::

    python -m segmentation.generator --rows 9000 --seed 20261127 \
        --out seeds/demo_customers.csv --groups-out tests/data/demo_customer_groups.csv
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.columns import RAW_COLUMNS

#: Planted behaviour groups, in the order of the parameter arrays below.
PLANTED_GROUPS: tuple[str, ...] = (
    "full_paying_transactors",
    "cash_advance_revolvers",
    "low_activity",
    "instalment_buyers",
)

DEFAULT_SEED = 20261127


@dataclass(frozen=True)
class _GroupProfile:
    """Per-group parameters; every tuple is indexed like :data:`PLANTED_GROUPS`."""

    share: tuple[float, ...] = (0.30, 0.22, 0.28, 0.20)
    credit_limit_median: tuple[float, ...] = (7000, 5000, 2200, 3500)
    # Probability of any activity of each kind over the tenure.
    p_oneoff: tuple[float, ...] = (0.97, 0.25, 0.10, 0.12)
    p_installments: tuple[float, ...] = (0.55, 0.20, 0.10, 0.97)
    p_cash_advance: tuple[float, ...] = (0.05, 0.97, 0.08, 0.08)
    # Median monthly amount when active (log-normal, right-skewed).
    oneoff_monthly_median: tuple[float, ...] = (450, 50, 25, 40)
    installments_monthly_median: tuple[float, ...] = (110, 35, 20, 230)
    cash_advance_monthly_median: tuple[float, ...] = (90, 480, 60, 70)
    # Beta(a, b) parameters of the frequencies when active.
    oneoff_frequency_ab: tuple[tuple[float, float], ...] = ((7, 2), (1.5, 6), (1, 9), (1, 6))
    installments_frequency_ab: tuple[tuple[float, float], ...] = ((3, 3), (1.5, 6), (1, 7), (9, 1.5))
    cash_advance_frequency_ab: tuple[tuple[float, float], ...] = ((1, 9), (4, 4), (1, 9), (1, 9))
    # Balance as a share of the credit limit, and how often a balance is carried.
    utilisation_ab: tuple[tuple[float, float], ...] = ((1, 9), (6, 3), (1.2, 8), (2, 4))
    balance_frequency_ab: tuple[tuple[float, float], ...] = ((5, 2), (14, 1), (1.5, 2.5), (6, 2))
    # Share of months paid in full: zero for this share of customers, else Beta(a, b).
    p_never_full: tuple[float, ...] = (0.05, 0.90, 0.55, 0.45)
    prc_full_payment_ab: tuple[tuple[float, float], ...] = ((6, 1.5), (1, 10), (1, 2), (1, 4))
    purchases_per_active_month: tuple[float, ...] = (3.0, 1.2, 1.0, 1.6)


_PROFILE = _GroupProfile()

#: Rates of the known quirks of the public data set, reproduced on purpose.
MISSING_MINIMUM_PAYMENTS_RATE = 0.035
MISSING_CREDIT_LIMIT_RATE = 0.0003
CASH_ADVANCE_FREQUENCY_ABOVE_ONE_RATE = 0.002
PURCHASES_MISMATCH_RATE = 0.002
SHORT_TENURE_RATE = 0.15


def _beta(rng: np.random.Generator, ab: tuple[tuple[float, float], ...], group: np.ndarray) -> np.ndarray:
    params = np.asarray(ab, dtype=float)[group]
    return rng.beta(params[:, 0], params[:, 1])


def _on_month_grid(frequency: np.ndarray, active: np.ndarray, steps: int = 12) -> np.ndarray:
    """Round to a 1/steps grid, at least one step when active and exactly 0 when not."""
    grid = np.clip(np.round(frequency * steps), 1, steps) / steps
    return np.where(active, grid, 0.0)


def _monthly_amount(rng: np.random.Generator, medians: tuple[float, ...], group: np.ndarray) -> np.ndarray:
    return np.asarray(medians, dtype=float)[group] * np.exp(rng.normal(0.0, 0.9, size=group.size))


def generate_customers(n_rows: int, seed: int = DEFAULT_SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate ``n_rows`` synthetic customers.

    Returns ``(customers, groups)``: ``customers`` has :data:`RAW_COLUMNS` (missing
    values as NaN), ``groups`` has ``customer_id`` and ``planted_group``. The same
    ``n_rows`` and ``seed`` always give the same frames.
    """
    if n_rows < 1:
        raise ValueError(f"n_rows must be a positive number of customers, got {n_rows}")
    rng = np.random.default_rng(seed)
    p = _PROFILE
    group = rng.choice(len(PLANTED_GROUPS), size=n_rows, p=np.asarray(p.share) / sum(p.share))

    tenure = np.where(rng.random(n_rows) < SHORT_TENURE_RATE, rng.integers(6, 12, size=n_rows), 12)
    credit_limit = np.asarray(p.credit_limit_median, dtype=float)[group] * np.exp(rng.normal(0, 0.55, n_rows))
    credit_limit = np.clip(np.round(credit_limit / 50) * 50, 300, 30000)

    def active(probabilities: tuple[float, ...]) -> np.ndarray:
        return rng.random(n_rows) < np.asarray(probabilities)[group]

    has_oneoff, has_installments, has_cash_advance = (
        active(p.p_oneoff),
        active(p.p_installments),
        active(p.p_cash_advance),
    )
    oneoff_frequency = _on_month_grid(_beta(rng, p.oneoff_frequency_ab, group), has_oneoff)
    installments_frequency = _on_month_grid(_beta(rng, p.installments_frequency_ab, group), has_installments)
    cash_advance_frequency = _on_month_grid(_beta(rng, p.cash_advance_frequency_ab, group), has_cash_advance)
    purchases_frequency = np.maximum(oneoff_frequency, installments_frequency)
    both = has_oneoff & has_installments
    purchases_frequency = np.where(
        both, np.minimum(1.0, purchases_frequency + np.round(rng.random(n_rows) * 2) / 12), purchases_frequency
    )

    oneoff = np.where(has_oneoff, _monthly_amount(rng, p.oneoff_monthly_median, group) * tenure * oneoff_frequency, 0.0)
    installments = np.where(
        has_installments,
        _monthly_amount(rng, p.installments_monthly_median, group) * tenure * installments_frequency,
        0.0,
    )
    cash_advance = np.where(
        has_cash_advance,
        _monthly_amount(rng, p.cash_advance_monthly_median, group) * tenure * cash_advance_frequency,
        0.0,
    )
    oneoff, installments, cash_advance = (np.round(a, 2) for a in (oneoff, installments, cash_advance))
    purchases = oneoff + installments
    mismatch = (rng.random(n_rows) < PURCHASES_MISMATCH_RATE) & (purchases > 0)
    purchases = np.round(np.where(mismatch, purchases + rng.uniform(1, 600, n_rows), purchases), 2)

    purchase_rate = np.asarray(p.purchases_per_active_month)[group] * purchases_frequency * tenure
    purchases_trx = np.where(purchases > 0, 1 + rng.poisson(purchase_rate), 0)
    cash_advance_trx = np.where(cash_advance > 0, 1 + rng.poisson(1.5 * cash_advance_frequency * tenure), 0)
    quirky = has_cash_advance & (rng.random(n_rows) < CASH_ADVANCE_FREQUENCY_ABOVE_ONE_RATE)
    cash_advance_frequency = np.where(quirky, 1 + rng.integers(1, 7, n_rows) / 12, cash_advance_frequency)

    utilisation = _beta(rng, p.utilisation_ab, group) * np.where(rng.random(n_rows) < 0.03, 1.3, 1.0)
    balance = np.round(utilisation * credit_limit, 2)
    balance_frequency = _on_month_grid(_beta(rng, p.balance_frequency_ab, group), balance > 0, steps=11)

    never_full = rng.random(n_rows) < np.asarray(p.p_never_full)[group]
    prc_full_payment = np.where(never_full, 0.0, np.round(_beta(rng, p.prc_full_payment_ab, group) * 12) / 12)

    payments = (purchases + cash_advance + 0.3 * balance) * np.exp(rng.normal(0, 0.35, n_rows))
    minimum_payments = 15 + balance * np.exp(rng.normal(np.log(0.2), 0.7, n_rows))
    missing_minimum = rng.random(n_rows) < MISSING_MINIMUM_PAYMENTS_RATE
    # As in the public data, most customers without a minimum payment paid nothing at all.
    payments = np.where(missing_minimum & (rng.random(n_rows) < 0.75), 0.0, payments)
    minimum_payments = np.where(missing_minimum, np.nan, minimum_payments)
    credit_limit = np.where(rng.random(n_rows) < MISSING_CREDIT_LIMIT_RATE, np.nan, credit_limit)

    customer_id = pd.Series(np.arange(10001, 10001 + n_rows)).map("C{}".format)
    customers = pd.DataFrame(
        {
            "CUST_ID": customer_id,
            "BALANCE": balance,
            "BALANCE_FREQUENCY": np.round(balance_frequency, 6),
            "PURCHASES": purchases,
            "ONEOFF_PURCHASES": oneoff,
            "INSTALLMENTS_PURCHASES": installments,
            "CASH_ADVANCE": cash_advance,
            "PURCHASES_FREQUENCY": np.round(purchases_frequency, 6),
            "ONEOFF_PURCHASES_FREQUENCY": np.round(oneoff_frequency, 6),
            "PURCHASES_INSTALLMENTS_FREQUENCY": np.round(installments_frequency, 6),
            "CASH_ADVANCE_FREQUENCY": np.round(cash_advance_frequency, 6),
            "CASH_ADVANCE_TRX": cash_advance_trx,
            "PURCHASES_TRX": purchases_trx,
            "CREDIT_LIMIT": credit_limit,
            "PAYMENTS": np.round(payments, 2),
            "MINIMUM_PAYMENTS": np.round(minimum_payments, 2),
            "PRC_FULL_PAYMENT": np.round(prc_full_payment, 6),
            "TENURE": tenure,
        },
        columns=list(RAW_COLUMNS),
    )
    groups = pd.DataFrame({"customer_id": customer_id, "planted_group": np.asarray(PLANTED_GROUPS)[group]})
    return customers, groups


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``), by extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    name = path.name.lower()
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    elif name.endswith((".csv", ".csv.gz")):
        frame.to_csv(path, index=False)
    else:
        raise ValueError(f"cannot write {path}: use a .csv, .csv.gz or .parquet file name")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, required=True, help="number of customers to generate")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    parser.add_argument("--out", type=Path, required=True, help="customers file: .csv, .csv.gz or .parquet")
    parser.add_argument("--groups-out", type=Path, help="optional file for the planted group of each customer")
    args = parser.parse_args(argv)
    customers, groups = generate_customers(args.rows, args.seed)
    write_table(customers, args.out)
    if args.groups_out:
        write_table(groups, args.groups_out)
    print(f"wrote {len(customers):,} customers to {args.out}")


if __name__ == "__main__":
    main()
