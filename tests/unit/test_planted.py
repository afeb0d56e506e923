"""The planted-group family: seeded holdouts with the CC GENERAL columns, labels apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import cross_val_predict

from segmentation.columns import RAW_COLUMNS
from segmentation.planted import FAMILY, FAMILY_BY_NAME, ZERO_INFLATED_COLUMNS, PlantedShape, main, planted_customers


def test_the_family_covers_what_the_quality_target_needs():
    assert len(FAMILY) >= 8
    assert {shape.n_groups for shape in FAMILY} >= {3, 5, 7}
    assert min(shape.zero_share for shape in FAMILY) == 0.0 and max(shape.zero_share for shape in FAMILY) == 0.3
    assert any(shape.shares().min() < 0.1 for shape in FAMILY)  # one group under 10%
    assert any(shape.overlap > 0 for shape in FAMILY) and any(shape.tail_sigma > 0.5 for shape in FAMILY)
    assert any(shape.missing_minimum_share >= 0.2 for shape in FAMILY)
    assert len({shape.seed for shape in FAMILY}) == len(FAMILY)
    assert {shape.style for shape in FAMILY} == {"behavioural", "independent"}


@pytest.mark.parametrize("shape", FAMILY, ids=lambda shape: shape.name)
def test_each_holdout_is_seeded_and_shaped_as_declared(shape):
    customers, groups = planted_customers(shape, 6_000)
    again, again_groups = planted_customers(shape, 6_000)
    pd.testing.assert_frame_equal(customers, again)
    pd.testing.assert_frame_equal(groups, again_groups)
    assert list(customers.columns) == list(RAW_COLUMNS)
    assert customers["CUST_ID"].is_unique and (groups["customer_id"] == customers["CUST_ID"]).all()
    assert groups["planted_group"].nunique() == shape.n_groups
    shares = groups["planted_group"].value_counts(normalize=True).sort_index()
    assert shares.min() == pytest.approx(shape.shares().min(), abs=0.02)
    assert customers["TENURE"].between(6, 12).all()
    assert customers["MINIMUM_PAYMENTS"].isna().mean() == pytest.approx(shape.missing_minimum_share, abs=0.015)
    # Zero-inflation: at least the declared share of exact zeros in each inflated column.
    for column in ZERO_INFLATED_COLUMNS:
        assert (customers[column] == 0).mean() >= shape.zero_share - 0.015
    amounts = customers[["BALANCE", "PURCHASES", "CASH_ADVANCE", "PAYMENTS", "CREDIT_LIMIT"]]
    assert (amounts >= 0).all().all()
    for column in [name for name in RAW_COLUMNS if name.endswith("FREQUENCY") or name == "PRC_FULL_PAYMENT"]:
        assert customers[column].between(0, 1).all(), column
    np.testing.assert_allclose(
        customers["PURCHASES"], customers["ONEOFF_PURCHASES"] + customers["INSTALLMENTS_PURCHASES"]
    )


@pytest.mark.parametrize("name", ["g3_plain", "g5_zero_balance", "g7_unequal", "i5_independent_zero15"])
def test_the_planted_groups_are_learnable_from_the_columns(name):
    """A supervised model recovers the groups: the labels are real structure, not noise,
    so the family can tell a good segmentation from a bad one."""
    customers, groups = planted_customers(FAMILY_BY_NAME[name], 3_000)
    features = customers.drop(columns=["CUST_ID"]).to_numpy(dtype=float)
    labels = groups["planted_group"].to_numpy()
    predicted = cross_val_predict(HistGradientBoostingClassifier(max_iter=60, random_state=0), features, labels, cv=3)
    assert adjusted_rand_score(labels, predicted) > 0.85


def test_another_seed_draws_other_customers_and_bad_shapes_are_refused():
    shape = FAMILY_BY_NAME["g3_plain"]
    first, _ = planted_customers(shape, 500)
    other, _ = planted_customers(shape, 500, seed=99)
    assert not first.equals(other)
    with pytest.raises(ValueError, match="n_groups must be between 2 and 7"):
        PlantedShape("too_many", 8)
    with pytest.raises(ValueError, match="style must be behavioural or independent"):
        PlantedShape("odd", 3, style="copula")
    with pytest.raises(ValueError, match="positive number of customers"):
        planted_customers(shape, 0)


def test_the_command_line_writes_customers_and_labels_apart(tmp_path):
    main(
        [
            "--shape",
            "g3_plain",
            "--rows",
            "200",
            "--out",
            str(tmp_path / "c.csv"),
            "--groups-out",
            str(tmp_path / "g.csv"),
        ]
    )
    customers, groups = pd.read_csv(tmp_path / "c.csv"), pd.read_csv(tmp_path / "g.csv")
    assert len(customers) == len(groups) == 200
    assert "planted_group" not in customers.columns
