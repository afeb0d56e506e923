"""Labelled holdouts with planted customer groups: a second, independent generator.

The demo generator (:mod:`segmentation.generator`) makes one data set. Whether the
segments find real groups of customers is measured on many: this module draws a *family*
of labelled holdouts with the CC GENERAL columns, each customer from one of a library of
behaviour profiles (:data:`PROFILES`), under a *shape* (:class:`PlantedShape`) that sets
how many groups, how unequal their sizes, how much the groups overlap, how heavy the
right tails of the amounts are, how many customers have an exact zero in each amount
column whatever their group (zero-inflation), how many lack ``MINIMUM_PAYMENTS``, how
tenure spreads over 6-12 months, and the style of the draw: *behavioural* (the columns
follow from each other, as in real extracts) or *independent* (each column drawn on its
own around its group's typical value, as a simple generator would). The planted group of each customer is written to a
separate file, so labels never enter a build.

Every shape is seeded: the same shape, size and seed give the same files. ``make
quality`` builds every holdout of :data:`FAMILY` and scores the segments against the
planted groups (``benchmarks/quality.py``).

    python -m segmentation.planted --shape g5_zero_balance --rows 9000 \
        --out customers.csv --groups-out groups.csv
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.columns import RAW_COLUMNS
from segmentation.generator import write_table


@dataclass(frozen=True)
class BehaviourProfile:
    """One planted group: medians of log-normal amounts (per month, in currency units),
    probabilities of any activity of a kind, and mean shares/frequencies."""

    name: str
    credit_limit: float
    p_oneoff: float
    p_installments: float
    p_cash_advance: float
    oneoff_monthly: float
    installments_monthly: float
    cash_advance_monthly: float
    purchase_frequency: float  # mean share of months with purchases, when active
    cash_advance_frequency: float
    utilisation: float  # mean balance / credit limit
    full_payment: float  # mean share of months paid in full
    payment_ratio: float  # payments as a multiple of the month's new spending


#: The profile library; a shape takes the first ``n_groups`` of them.
PROFILES: tuple[BehaviourProfile, ...] = (
    BehaviourProfile("transactors", 7000, 0.95, 0.50, 0.05, 400, 90, 60, 0.80, 0.08, 0.10, 0.85, 1.0),
    BehaviourProfile("revolvers", 4500, 0.25, 0.20, 0.95, 60, 40, 450, 0.20, 0.55, 0.75, 0.03, 0.6),
    BehaviourProfile("dormant", 2500, 0.10, 0.10, 0.08, 30, 25, 60, 0.08, 0.08, 0.12, 0.30, 0.8),
    BehaviourProfile("installment_buyers", 3500, 0.12, 0.95, 0.08, 40, 220, 70, 0.85, 0.08, 0.35, 0.20, 0.9),
    BehaviourProfile("big_spenders", 16000, 0.98, 0.80, 0.15, 2200, 500, 150, 0.90, 0.10, 0.20, 0.70, 1.0),
    BehaviourProfile("minimum_payers", 3000, 0.55, 0.35, 0.10, 120, 80, 80, 0.45, 0.10, 0.95, 0.00, 0.25),
    BehaviourProfile("new_accounts", 1500, 0.85, 0.30, 0.20, 60, 30, 40, 0.70, 0.15, 0.50, 0.10, 0.9),
)

#: The amount columns that zero-inflation can set to exactly 0, whatever the group.
ZERO_INFLATED_COLUMNS: tuple[str, ...] = ("BALANCE", "ONEOFF_PURCHASES", "INSTALLMENTS_PURCHASES", "CASH_ADVANCE")


@dataclass(frozen=True)
class PlantedShape:
    """How one holdout of the family is drawn (see the module docstring)."""

    name: str
    n_groups: int
    #: relative group sizes (first ``n_groups`` used); equal when empty
    sizes: tuple[float, ...] = ()
    #: 0: the profiles as written; 1: every group the same (log-space blend to the mean)
    overlap: float = 0.0
    #: sigma of the log-normal amounts around each group's median
    tail_sigma: float = 0.5
    #: share of customers with an exact 0 in each of :data:`ZERO_INFLATED_COLUMNS`
    zero_share: float = 0.0
    #: share of customers without MINIMUM_PAYMENTS
    missing_minimum_share: float = 0.035
    #: share of customers with a tenure of 6-11 months (the rest 12)
    short_tenure_share: float = 0.15
    #: ``behavioural``: columns that follow from each other (activity, months, amounts,
    #: transactions, payments); ``independent``: each column drawn on its own around its
    #: group's typical value, as a simple generator would
    style: str = "behavioural"
    seed: int = 0

    def __post_init__(self) -> None:
        if not 2 <= self.n_groups <= len(PROFILES):
            raise ValueError(f"n_groups must be between 2 and {len(PROFILES)}, got {self.n_groups}")
        if self.style not in ("behavioural", "independent"):
            raise ValueError(f"style must be behavioural or independent, got {self.style!r}")
        if self.sizes and len(self.sizes) < self.n_groups:
            raise ValueError(f"sizes gives {len(self.sizes)} groups, fewer than n_groups={self.n_groups}")

    def shares(self) -> np.ndarray:
        sizes = np.asarray(self.sizes[: self.n_groups] if self.sizes else [1.0] * self.n_groups, dtype=float)
        return sizes / sizes.sum()


#: The family ``make quality`` measures: 3, 4, 5 and 7 groups; unequal sizes (one group
#: under 10%); zero-inflation from 0% to 30%; heavy tails; overlap; many missing minimum
#: payments and tenure spread over 6-12 months.
FAMILY: tuple[PlantedShape, ...] = (
    PlantedShape("g3_plain", 3, seed=301),
    PlantedShape("g3_zero10_unequal", 3, sizes=(0.6, 0.32, 0.08), zero_share=0.10, seed=302),
    PlantedShape("g4_missing_tenure", 4, missing_minimum_share=0.25, short_tenure_share=0.6, seed=401),
    PlantedShape("g5_plain", 5, seed=501),
    PlantedShape("g5_zero_balance", 5, zero_share=0.03, seed=502),
    PlantedShape("g5_zero30_heavy", 5, zero_share=0.30, tail_sigma=0.9, seed=503),
    PlantedShape("g5_overlap_unequal", 5, sizes=(0.35, 0.25, 0.2, 0.13, 0.07), overlap=0.15, seed=504),
    PlantedShape("g7_unequal", 7, sizes=(0.25, 0.2, 0.15, 0.12, 0.12, 0.1, 0.06), zero_share=0.05, seed=701),
    PlantedShape("i3_independent", 3, zero_share=0.03, style="independent", seed=303),
    PlantedShape("i5_independent_zero15", 5, zero_share=0.15, tail_sigma=0.6, style="independent", seed=505),
)

FAMILY_BY_NAME: dict[str, PlantedShape] = {shape.name: shape for shape in FAMILY}


def _blend(values: np.ndarray, overlap: float, log: bool) -> np.ndarray:
    """Move each group's parameter ``overlap`` of the way to the groups' mean."""
    if log:
        logs = np.log(values)
        return np.exp(logs + overlap * (logs.mean() - logs))
    return values + overlap * (values.mean() - values)


def _parameter(shape: PlantedShape, name: str, group: np.ndarray, log: bool = False) -> np.ndarray:
    values = np.asarray([getattr(profile, name) for profile in PROFILES[: shape.n_groups]], dtype=float)
    return _blend(values, shape.overlap, log)[group]


def _share(rng: np.random.Generator, mean: np.ndarray, concentration: float = 20.0) -> np.ndarray:
    """A Beta draw with the given mean (clipped away from 0 and 1)."""
    mean = np.clip(mean, 0.02, 0.98)
    return rng.beta(mean * concentration, (1 - mean) * concentration)


def planted_customers(shape: PlantedShape, n_rows: int, seed: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n_rows`` customers of ``shape``: ``(customers, groups)`` as in
    :func:`segmentation.generator.generate_customers` (RAW_COLUMNS; customer_id and
    planted_group). ``seed`` defaults to the shape's own."""
    if n_rows < 1:
        raise ValueError(f"n_rows must be a positive number of customers, got {n_rows}")
    rng = np.random.default_rng(shape.seed if seed is None else seed)
    group = rng.choice(shape.n_groups, size=n_rows, p=shape.shares())
    draw = _independent_columns if shape.style == "independent" else _behavioural_columns
    columns = draw(_Draws(shape, rng, group))
    # Zero-inflation last: each inflated column is set to exactly 0 for a share of the
    # customers, independently and whatever their group, and nothing else changes (as a
    # balance paid off at the extract date): a nuisance the segments should not follow.
    for column in ZERO_INFLATED_COLUMNS:
        columns[column] = np.where(rng.random(n_rows) < shape.zero_share, 0.0, columns[column])
    columns["PURCHASES"] = np.round(columns["ONEOFF_PURCHASES"] + columns["INSTALLMENTS_PURCHASES"], 2)
    customer_id = pd.Series(np.arange(1, n_rows + 1)).map("P{:08d}".format)
    customers = pd.DataFrame({"CUST_ID": customer_id, **columns}, columns=list(RAW_COLUMNS))
    names = np.asarray([profile.name for profile in PROFILES[: shape.n_groups]])
    groups = pd.DataFrame({"customer_id": customer_id, "planted_group": names[group]})
    return customers, groups


@dataclass(frozen=True)
class _Draws:
    """What both styles draw from: the shape, the generator and each customer's group."""

    shape: PlantedShape
    rng: np.random.Generator
    group: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.group)

    def param(self, name: str, log: bool = False) -> np.ndarray:
        return _parameter(self.shape, name, self.group, log)

    def lognormal(self, median: np.ndarray) -> np.ndarray:
        return median * np.exp(self.rng.normal(0.0, self.shape.tail_sigma, self.n_rows))

    def tenure(self) -> np.ndarray:
        short = self.rng.random(self.n_rows) < self.shape.short_tenure_share
        return np.where(short, self.rng.integers(6, 12, self.n_rows), 12)

    def credit_limit(self) -> np.ndarray:
        return np.clip(np.round(self.lognormal(self.param("credit_limit", log=True)) * 0.7 / 50) * 50, 300, 40000)

    def months(self, share: np.ndarray, active: np.ndarray) -> np.ndarray:
        """A share of months on the 1/12 grid: at least one month when active, else 0."""
        return np.where(active, np.clip(np.round(share * 12), 1, 12) / 12, 0.0)

    def minimum_payments(self, balance: np.ndarray) -> np.ndarray:
        minimum = np.round(15 + balance * np.exp(self.rng.normal(np.log(0.15), 0.5, self.n_rows)), 2)
        return np.where(self.rng.random(self.n_rows) < self.shape.missing_minimum_share, np.nan, minimum)


def _behavioural_columns(d: _Draws) -> dict[str, np.ndarray]:
    """Columns that follow from each other as in real extracts: activity of each kind, its
    months and monthly amounts, transactions from the months, the balance from the limit
    and the utilisation, payments from the spending and the balance."""
    tenure, credit_limit = d.tenure(), d.credit_limit()
    kinds = {}
    for kind in ("oneoff", "installments", "cash_advance"):
        active = d.rng.random(d.n_rows) < d.param(f"p_{kind}")
        frequency = "cash_advance_frequency" if kind == "cash_advance" else "purchase_frequency"
        share = d.months(_share(d.rng, d.param(frequency)), active)
        amount = np.where(active, d.lognormal(d.param(f"{kind}_monthly", log=True)) * tenure * share, 0.0)
        kinds[kind] = (np.round(amount, 2), share)
    (oneoff, oneoff_share), (installments, installments_share), (cash_advance, cash_share) = kinds.values()
    purchases_share = np.maximum(oneoff_share, installments_share)
    utilisation = _share(d.rng, d.param("utilisation"))
    balance = np.round(utilisation * credit_limit, 2)
    full_payment = np.round(_share(d.rng, d.param("full_payment")) * 12) / 12
    spending = (oneoff + installments + cash_advance) / tenure
    monthly_payments = d.param("payment_ratio") * spending + 0.05 * balance + full_payment * 0.3 * balance
    return {
        "BALANCE": balance,
        "BALANCE_FREQUENCY": np.round(np.clip(np.round(_share(d.rng, utilisation + 0.4) * 11), 1, 11) / 11, 6),
        "ONEOFF_PURCHASES": oneoff,
        "INSTALLMENTS_PURCHASES": installments,
        "CASH_ADVANCE": cash_advance,
        "PURCHASES_FREQUENCY": np.round(purchases_share, 6),
        "ONEOFF_PURCHASES_FREQUENCY": np.round(oneoff_share, 6),
        "PURCHASES_INSTALLMENTS_FREQUENCY": np.round(installments_share, 6),
        "CASH_ADVANCE_FREQUENCY": np.round(cash_share, 6),
        "CASH_ADVANCE_TRX": np.where(cash_share > 0, 1 + d.rng.poisson(1.5 * cash_share * tenure), 0),
        "PURCHASES_TRX": np.where(purchases_share > 0, 1 + d.rng.poisson(2.0 * purchases_share * tenure), 0),
        "CREDIT_LIMIT": credit_limit,
        "PAYMENTS": np.round(monthly_payments * tenure * np.exp(d.rng.normal(0.0, 0.3, d.n_rows)), 2),
        "MINIMUM_PAYMENTS": d.minimum_payments(balance),
        "PRC_FULL_PAYMENT": np.round(full_payment, 6),
        "TENURE": tenure,
    }


def _independent_columns(d: _Draws) -> dict[str, np.ndarray]:
    """Each column drawn on its own around its group's typical value (log-normal amounts,
    an exact zero with the group's probability of no activity of that kind), as a simple
    generator would: nothing ties a customer's columns together but the group."""
    tenure, credit_limit = d.tenure(), d.credit_limit()

    def amount(kind: str) -> np.ndarray:
        active = d.rng.random(d.n_rows) < d.param(f"p_{kind}")
        return np.round(np.where(active, d.lognormal(d.param(f"{kind}_monthly", log=True) * 12), 0.0), 2)

    def share(name: str, active: np.ndarray | None = None) -> np.ndarray:
        drawn = np.clip(d.param(name) + d.rng.normal(0.0, 0.1, d.n_rows), 0.0, 1.0)
        return drawn if active is None else d.months(drawn, active)

    oneoff, installments, cash_advance = amount("oneoff"), amount("installments"), amount("cash_advance")
    purchases_share = share("purchase_frequency", (oneoff + installments) > 0)
    cash_share = share("cash_advance_frequency", cash_advance > 0)
    balance = np.round(d.lognormal(d.param("utilisation") * d.param("credit_limit", log=True) * 0.7), 2)
    spending = d.param("oneoff_monthly") * d.param("p_oneoff") + d.param("installments_monthly") * d.param(
        "p_installments"
    )
    payments = d.lognormal(12 * (d.param("payment_ratio") * spending + 0.1 * d.param("credit_limit")))
    return {
        "BALANCE": balance,
        "BALANCE_FREQUENCY": np.round(share("utilisation") * 0.5 + 0.5, 6),
        "ONEOFF_PURCHASES": oneoff,
        "INSTALLMENTS_PURCHASES": installments,
        "CASH_ADVANCE": cash_advance,
        "PURCHASES_FREQUENCY": np.round(purchases_share, 6),
        "ONEOFF_PURCHASES_FREQUENCY": np.round(np.where(oneoff > 0, purchases_share, 0.0), 6),
        "PURCHASES_INSTALLMENTS_FREQUENCY": np.round(np.where(installments > 0, purchases_share, 0.0), 6),
        "CASH_ADVANCE_FREQUENCY": np.round(cash_share, 6),
        "CASH_ADVANCE_TRX": np.round(cash_share * 12 * 1.5),
        "PURCHASES_TRX": np.round(purchases_share * 12 * 2.0),
        "CREDIT_LIMIT": credit_limit,
        "PAYMENTS": np.round(payments, 2),
        "MINIMUM_PAYMENTS": d.minimum_payments(balance),
        "PRC_FULL_PAYMENT": np.round(share("full_payment"), 6),
        "TENURE": tenure,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", required=True, choices=sorted(FAMILY_BY_NAME), help="which holdout of the family")
    parser.add_argument("--rows", type=int, required=True, help="number of customers")
    parser.add_argument("--seed", type=int, help="random seed (default: the shape's own)")
    parser.add_argument("--out", type=Path, required=True, help="customers file: .csv, .csv.gz or .parquet")
    parser.add_argument("--groups-out", type=Path, required=True, help="file for the planted group of each customer")
    args = parser.parse_args(argv)
    customers, groups = planted_customers(FAMILY_BY_NAME[args.shape], args.rows, args.seed)
    write_table(customers, args.out)
    write_table(groups, args.groups_out)
    print(f"wrote {len(customers):,} customers of shape {args.shape} to {args.out}")


if __name__ == "__main__":
    main()
