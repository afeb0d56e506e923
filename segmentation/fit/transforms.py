"""The learned feature transform: the first step of the segment model, before scaling.

Card amounts are zero-inflated and heavy-tailed: in cc_general 23% of customers have no
purchases, 52% no cash advance and 0.9% no balance, and the positive amounts are skewed
8 to 14. ``ln(1 + x)`` tames the tail but puts a *rare* zero (a zero balance) several
standard deviations from everybody else, so k-means spends a whole segment on "has a
zero" (measured on planted groups: docs/quality.md). The default transform,
``shifted_log``, is ``ln(x + shift)`` with the shift learned per feature on the train
split: the 25th percentile of the feature's positive values. A zero then sits just below
the small positive values instead of far from them, whether zeros are rare or common,
and the long right tail is still compressed. Only the features declared with
``meta: {transform: log}`` are transformed; shares and frequencies are left as they are.

:class:`FeatureTransform` follows scikit-learn's conventions (``fit``/``transform``,
learned ``log_shifts_``), so it is the first step of the same ``Pipeline`` as the
scaler and the reducer; the shifts are stored with the model version
(``segmentation_models.log_shifts``) and rendered into the scoring SQL, so scoring with
a stored version (``refit: false``, ``score_customers``, Spark) applies exactly them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from segmentation.scoring.model import log_shifted

#: The accepted values of var ``feature_transform``.
FEATURE_TRANSFORMS: tuple[str, ...] = ("shifted_log", "log1p", "none")
#: ``shifted_log``: the shift is this quantile of a feature's positive train values.
SHIFT_QUANTILE = 0.25


def learned_shift(values: np.ndarray, method: str) -> float:
    """The shift of ``ln(x + shift)`` for one feature's train values under ``method``
    (NaN: the feature is used as it is)."""
    if method == "none":
        return float("nan")
    if method == "log1p":
        return 1.0
    if method != "shifted_log":
        raise ValueError(f"unknown feature transform {method!r}; accepted: {list(FEATURE_TRANSFORMS)}")
    positive = values[values > 0]
    # No positive value: the feature is constant at zero (left out of clustering anyway).
    return float(np.quantile(positive, SHIFT_QUANTILE)) if len(positive) else 1.0


class FeatureTransform(TransformerMixin, BaseEstimator):
    """``ln(max(x, 0) + shift)`` on the columns listed in ``log_columns`` (positions),
    the shift learned per column by ``method`` (see :func:`learned_shift`)."""

    def __init__(self, log_columns: Sequence[int] = (), method: str = "shifted_log"):
        self.log_columns = log_columns
        self.method = method

    def fit(self, X: np.ndarray, y: object = None) -> FeatureTransform:  # noqa: N803 (scikit-learn's name)
        X = np.asarray(X, dtype=np.float64)  # noqa: N806
        shifts = np.full(X.shape[1], np.nan)
        for column in self.log_columns:
            shifts[column] = learned_shift(X[:, column], self.method)
        self.log_shifts_ = shifts
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        return log_shifted(np.asarray(X, dtype=np.float64), self.log_shifts_)


def log_columns(features: Sequence[str], transforms: Mapping[str, str]) -> list[int]:
    """Positions of the ``features`` declared ``transform: log`` in ``transforms``."""
    return [position for position, name in enumerate(features) if transforms.get(name) == "log"]
