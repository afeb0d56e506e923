"""The learned feature transform: shifts learned on the train rows, stored, rendered to SQL."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from segmentation.fit.reducers import fit_reduction, model_from_reduction
from segmentation.fit.transforms import (
    FEATURE_TRANSFORMS,
    MIN_ZERO_SHARE,
    SHIFT_QUANTILE,
    FeatureTransform,
    learned_shift,
)
from segmentation.params import ParameterError, SegmentationParams
from segmentation.scoring.model import SegmentModel, log_shifted, real_units
from segmentation.scoring.registry import stored_per_feature
from segmentation.scoring.sql import transformed_feature


def zero_inflated(n_rows: int, zero_share: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    amounts = rng.lognormal(mean=5.0, sigma=0.8, size=n_rows)
    return np.where(rng.random(n_rows) < zero_share, 0.0, amounts)


def test_the_shift_is_a_quantile_of_the_positive_values():
    values = zero_inflated(5_000, 0.3)
    assert learned_shift(values, "shifted_log") == pytest.approx(np.quantile(values[values > 0], SHIFT_QUANTILE))
    assert learned_shift(values, "log1p") == 1.0
    assert np.isnan(learned_shift(values, "none"))
    # No positive value (a column of zeros): a harmless shift, the feature is constant anyway.
    assert learned_shift(np.zeros(10), "shifted_log") == 1.0
    with pytest.raises(ValueError, match="unknown feature transform 'rank'"):
        learned_shift(values, "rank")


def test_only_the_declared_columns_are_transformed_and_the_shifts_are_learned_attributes():
    train = np.column_stack([zero_inflated(1_000, 0.1), np.linspace(0, 1, 1_000)])
    transform = FeatureTransform(log_columns=[0], method="shifted_log").fit(train)
    assert np.isnan(transform.log_shifts_[1]) and transform.log_shifts_[0] > 1.0
    out = transform.transform(train)
    np.testing.assert_array_equal(out[:, 1], train[:, 1])
    np.testing.assert_allclose(out[:, 0], np.log(train[:, 0] + transform.log_shifts_[0]))


@pytest.mark.parametrize("zero_share", [0.01, 0.03])
def test_a_rare_zero_stays_close_to_the_small_amounts_with_the_learned_shift(zero_share):
    """The reason for the transform: with ln(1 + x) a rare zero lies several standard
    deviations below everybody else (k-means spends a segment on it); with the learned
    shift it lies just below the smallest positive amounts."""
    values = zero_inflated(20_000, zero_share)

    def zero_z_score(method: str) -> float:
        transformed = FeatureTransform([0], method).fit(values[:, None]).transform(values[:, None])[:, 0]
        return float((transformed[values == 0].mean() - transformed.mean()) / transformed.std())

    assert zero_z_score("log1p") < -4.0
    assert zero_z_score("shifted_log") > -3.0
    assert abs(zero_z_score("zero_centred_log")) < 1e-9  # at the centre: says nothing about the size


def test_zero_centred_log_puts_zeros_at_the_mean_log_of_the_positive_amounts():
    common, rare = zero_inflated(4_000, 0.5), zero_inflated(4_000, MIN_ZERO_SHARE / 2, seed=1)
    train = np.column_stack([common, rare, np.linspace(0, 1, 4_000)])
    train[:3, 0] = -2.0  # a negative amount counts as zero
    transform = FeatureTransform(log_columns=[0, 1], method="zero_centred_log").fit(train)
    positive = train[train[:, 0] > 0, 0]
    shift = np.quantile(positive, SHIFT_QUANTILE)
    assert transform.log_shifts_[0] == pytest.approx(shift)
    assert transform.zero_values_[0] == pytest.approx(np.log(positive + shift).mean())
    # A handful of zeros (at most MIN_ZERO_SHARE) stay at ln(shift); columns not declared log are untouched.
    assert np.isnan(transform.zero_values_[1]) and np.isnan(transform.zero_values_[2])
    out = transform.transform(train)
    zero = train[:, 0] <= 0
    np.testing.assert_allclose(out[zero, 0], transform.zero_values_[0])
    np.testing.assert_allclose(out[~zero, 0], np.log(train[~zero, 0] + shift))
    np.testing.assert_allclose(out[:, 1], np.log(np.maximum(rare, 0) + transform.log_shifts_[1]))
    np.testing.assert_array_equal(out[:, 2], train[:, 2])
    for method in ("shifted_log", "log1p", "none"):
        assert np.isnan(FeatureTransform([0, 1], method).fit(train).zero_values_).all(), method


def test_a_zero_centred_feature_is_scaled_by_its_positive_values_spread_and_the_model_stores_it():
    """Half zeros at the centre would shrink the standard deviation by sqrt(2) and weigh
    the feature up; the scaler divides by the spread of its positive values instead, and
    the model's arrays (what the registry stores and the SQL renders) reproduce the fit."""
    from segmentation.params import SegmentationParams

    train = np.column_stack([zero_inflated(4_000, 0.5), zero_inflated(4_000, 0.0, seed=2)])
    params = SegmentationParams(feature_transform="zero_centred_log", reducer="none")
    reduction = fit_reduction(train, params, log_columns=[0, 1])
    model = model_from_reduction(reduction, ["a", "b"], "none")
    transformed = reduction.named_steps["transform"].transform(train)
    positive = train[:, 0] > 0
    assert model.scaler_scale[0] == pytest.approx(transformed[positive, 0].std())
    assert model.scaler_scale[1] == pytest.approx(transformed[:, 1].std())  # no zeros: the usual spread
    assert model.scaler_mean[0] == pytest.approx(model.zero_values[0])  # zeros at the centre
    np.testing.assert_allclose(model.scale(train), reduction.transform(train), atol=1e-12)


def test_negative_values_count_as_zero_and_real_units_invert_the_transform():
    shifts = np.array([10.0, np.nan])
    matrix = np.array([[-5.0, -5.0], [0.0, 0.5], [90.0, 2.0]])
    out = log_shifted(matrix, shifts)
    np.testing.assert_allclose(out[:, 0], np.log([10.0, 10.0, 100.0]))
    np.testing.assert_array_equal(out[:, 1], matrix[:, 1])
    np.testing.assert_allclose(real_units(out, shifts)[1:], matrix[1:], atol=1e-12)
    # No shifts at all (a version stored before transforms): every column as it is.
    np.testing.assert_array_equal(log_shifted(matrix, np.empty(0)), matrix)


def test_the_rendered_sql_computes_what_numpy_computes():
    rng = np.random.default_rng(3)
    matrix = np.column_stack([zero_inflated(2_000, 0.2), rng.normal(size=2_000), zero_inflated(2_000, 0.0, seed=4)])
    matrix[:5, 0] = -1.0  # a negative amount counts as zero on both sides
    shifts = np.array([37.25, np.nan, 0.125])
    model = SegmentModel(("a", "b", "c"), np.zeros(3), np.ones(3), "none", (), log_shifts=shifts)
    connection = duckdb.connect()
    connection.execute("create table features (a double, b double, c double)")
    connection.executemany("insert into features values (?, ?, ?)", matrix.tolist())
    rendered = ", ".join(f"{transformed_feature(model, position)}" for position in range(3))
    assert "ln(greatest(a, 0e0) + 37.25e0)" in rendered and ", b," in rendered
    in_sql = np.asarray(connection.execute(f"select {rendered} from features").fetchall(), dtype=np.float64)
    np.testing.assert_allclose(in_sql, model.transform(matrix), rtol=0, atol=1e-12)
    # Zero values: a zero or negative amount of a, not of c, takes the stored value.
    centred = SegmentModel(
        ("a", "b", "c"),
        np.zeros(3),
        np.ones(3),
        "none",
        (),
        log_shifts=shifts,
        zero_values=np.array([4.5, np.nan, np.nan]),
    )
    rendered = ", ".join(f"{transformed_feature(centred, position)}" for position in range(3))
    assert "case when a > 0e0 then ln(a + 37.25e0) else 4.5e0 end" in rendered
    in_sql = np.asarray(connection.execute(f"select {rendered} from features").fetchall(), dtype=np.float64)
    np.testing.assert_allclose(in_sql, centred.transform(matrix), rtol=0, atol=1e-12)
    assert (in_sql[matrix[:, 0] <= 0, 0] == 4.5).all() and (matrix[:, 0] <= 0).sum() > 300


def test_stored_shifts_read_back_with_nulls_as_nan():
    read = stored_per_feature([2.5, None, 1.0])
    assert read[0] == 2.5 and np.isnan(read[1]) and read[2] == 1.0
    assert len(stored_per_feature(None)) == 0


def test_the_var_accepts_the_transforms_and_names_them_when_refused():
    assert SegmentationParams().feature_transform == "zero_centred_log" == FEATURE_TRANSFORMS[0]
    for method in FEATURE_TRANSFORMS:
        assert SegmentationParams.from_config({"feature_transform": method}).feature_transform == method
    with pytest.raises(ParameterError, match="feature_transform"):
        SegmentationParams.from_config({"feature_transform": "quantile"})
