"""The learned feature transform: the first step of the segment model, before scaling.

Card amounts are zero-inflated and heavy-tailed: in cc_general 23% of customers have no
purchases, 52% no cash advance and 0.9% no balance, and the positive amounts are skewed
8 to 14. ``ln(1 + x)`` tames the tail but puts a *rare* zero (a zero balance) several
standard deviations from everybody else, so k-means spends a whole segment on "has a
zero" (measured on planted groups: docs/quality.md). Only the features declared with
``meta: {transform: log}`` are transformed; shares and frequencies are left as they are.

- ``zero_centred_log`` (the default): ``ln(x + shift)`` of a positive amount, the shift
  learned per feature on the train split (the 25th percentile of its positive values);
  a zero amount takes the mean of those logs (the feature's ``zero_value``), where more
  than :data:`MIN_ZERO_SHARE` of the train values are zero. A zero then says nothing
  about the amount's size instead of being the most extreme value, and the feature is
  scaled by the spread of its positive values (:func:`positive_spread`), so a mostly-zero
  feature (a cash advance) does not outweigh the others. Whether a customer uses a
  product at all is still carried by the frequency features.
- ``shifted_log``: ``ln(max(x, 0) + shift)``, the same shift: a zero sits just below the
  small positive amounts.
- ``log1p``: ``ln(1 + x)``; ``none``: the amounts as they are.

:class:`FeatureTransform` follows scikit-learn's conventions (``fit``/``transform``,
learned ``log_shifts_`` and ``zero_values_``), so it is the first step of the same
``Pipeline`` as the scaler and the reducer; both arrays are stored with the model version
(``segmentation_models.log_shifts``, ``zero_values``) and rendered into the scoring SQL,
so scoring with a stored version (``refit: false``, ``score_customers``, Spark) applies
exactly them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from segmentation.scoring.model import log_shifted

#: The accepted values of var ``feature_transform``, the default first.
FEATURE_TRANSFORMS: tuple[str, ...] = ("zero_centred_log", "shifted_log", "log1p", "none")
#: ``shifted_log`` and ``zero_centred_log``: the shift is this quantile of a feature's
#: positive train values.
SHIFT_QUANTILE = 0.25
#: ``zero_centred_log`` centres the zeros of a feature where more than this share of its
#: train values are zero (or negative); a handful of zeros is left at ``ln(shift)``.
MIN_ZERO_SHARE = 0.005


def learned_shift(values: np.ndarray, method: str) -> float:
    """The shift of ``ln(x + shift)`` for one feature's train values under ``method``
    (NaN: the feature is used as it is)."""
    if method == "none":
        return float("nan")
    if method == "log1p":
        return 1.0
    if method not in ("shifted_log", "zero_centred_log"):
        raise ValueError(f"unknown feature transform {method!r}; accepted: {list(FEATURE_TRANSFORMS)}")
    positive = values[values > 0]
    # No positive value: the feature is constant at zero (left out of clustering anyway).
    return float(np.quantile(positive, SHIFT_QUANTILE)) if len(positive) else 1.0


class FeatureTransform(TransformerMixin, BaseEstimator):
    """``ln(max(x, 0) + shift)`` on the columns listed in ``log_columns`` (positions),
    the shift learned per column by ``method`` (see :func:`learned_shift`). Under
    ``zero_centred_log``, where more than :data:`MIN_ZERO_SHARE` of a column's train
    values are zero, a zero takes the column's ``zero_values_``: the mean of ``ln(x +
    shift)`` over its positive train values (NaN elsewhere: a zero is ``ln(shift)``);
    ``positive_spreads_`` holds the standard deviation of those logs, the column's scale
    (:func:`positive_spread`)."""

    def __init__(self, log_columns: Sequence[int] = (), method: str = FEATURE_TRANSFORMS[0]):
        self.log_columns = log_columns
        self.method = method

    def fit(self, X: np.ndarray, y: object = None) -> FeatureTransform:  # noqa: N803 (scikit-learn's name)
        X = np.asarray(X, dtype=np.float64)  # noqa: N806
        shifts, zero_values, spreads = (np.full(X.shape[1], np.nan) for _ in range(3))
        for column in self.log_columns:
            values = X[:, column]
            shifts[column] = learned_shift(values, self.method)
            if self.method != "zero_centred_log":
                continue
            positive = values[values > 0]
            if len(positive) and 1 - len(positive) / len(values) > MIN_ZERO_SHARE:
                logs = np.log(positive + shifts[column])
                zero_values[column], spreads[column] = np.mean(logs), np.std(logs)
        self.log_shifts_, self.zero_values_, self.positive_spreads_ = shifts, zero_values, spreads
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        return log_shifted(np.asarray(X, dtype=np.float64), self.log_shifts_, self.zero_values_)


def positive_spread(scale: np.ndarray, positive_spreads: np.ndarray) -> np.ndarray:
    """The scaler's ``scale`` with, for each column whose zeros are centred, the spread of
    its positive values' logs (:attr:`FeatureTransform.positive_spreads_`) instead: its
    zeros sit at their mean and would otherwise shrink the spread and blow the column up
    by ``1 / sqrt(1 - zero share)`` (a cash advance, zero for half the customers or more,
    would outweigh the others)."""
    return np.where(positive_spreads > 0, positive_spreads, scale)


def log_columns(features: Sequence[str], transforms: Mapping[str, str]) -> list[int]:
    """Positions of the ``features`` declared ``transform: log`` in ``transforms``."""
    return [position for position, name in enumerate(features) if transforms.get(name) == "log"]
