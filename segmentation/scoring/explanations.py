"""Why a customer is in its segment and not the runner-up: per-feature contributions.

k-means puts a customer in the segment whose centroid is nearest. The assignment margin,
``d(z, c_r)^2 - d(z, c_s)^2`` between the runner-up ``r`` and the own segment ``s`` (``z``
the customer's reduced coordinates), is linear in ``z``::

    margin = 2 (z - m) . (c_s - c_r),        m = (c_s + c_r) / 2

so it splits exactly into one term per dimension. When the reducer is linear (PCA: one
linear layer ``z = x K + b`` on the scaled features ``x``; ``none``: ``z = x``), it splits
exactly into one term per *scaled engineered feature*::

    margin = sum_j 2 (x_j - m_x_j) w_j,      w = K (c_s - c_r),   m_x = (m - b) pinv(K)

(``m_x K + b = m`` because ``K`` has full column rank.) ``contribution_j`` is that term:
positive when feature ``j`` pulls the customer towards its own segment, and the
contributions of a customer sum to its ``assignment_margin`` (to rounding).

The autoencoder's encoder is not linear, so no split of the margin by feature is exact.
The honest answer there is the same formula on the segments' *profiles* (the mean scaled
features of their train customers, ``centroid_scaled`` in the registry): ``w = p_s - p_r``,
``m_x = (p_s + p_r) / 2``, so ``contribution_j = (x_j - p_r_j)^2 - (x_j - p_s_j)^2``: how
much closer feature ``j`` puts the customer to its own segment's typical customer than to
the runner-up's. These contributions rank the features, but they do not sum to the margin
in the bottleneck.

:func:`contributions` computes them with numpy (the tests' reference);
:func:`reasons_select` renders the same arithmetic as SQL over a relation of features and
segments, with the top three positive contributions per customer as rows and a sentence an
analyst can read, quoting the segment medians stored with the version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from segmentation.scoring.model import SegmentModel
from segmentation.scoring.sql import _select, double_literal, identifier, string_literal, transformed_feature

#: Reasons kept per customer.
REASONS_PER_CUSTOMER = 3

#: How a feature's value is written in a reason, by its declared unit (``meta: unit``):
#: decimals, and the text after the number.
UNIT_FORMATS: dict[str, tuple[int, str]] = {
    "currency": (0, " $"),
    "share": (2, ""),
    "count": (1, ""),
    "ratio": (2, "x"),
}


@dataclass(frozen=True)
class PairDirection:
    """For customers of segment ``s`` whose runner-up is ``r``: ``contribution_j = 2 *
    (x_j - midpoint_j) * direction_j`` on the scaled features ``x``."""

    direction: np.ndarray
    midpoint: np.ndarray


def linear_map(model: SegmentModel) -> tuple[np.ndarray, np.ndarray] | None:
    """The reducer as one affine map ``z = x K + b`` when every layer is linear (none:
    the identity), else None."""
    width = len(model.features)
    kernel, bias = np.eye(width), np.zeros(width)
    for layer in model.layers:
        if layer.activation != "linear":
            return None
        kernel, bias = kernel @ layer.kernel, bias @ layer.kernel + layer.bias
    return kernel, bias


def is_exact(model: SegmentModel) -> bool:
    """Whether the contributions split the assignment margin exactly (a linear reducer)."""
    return linear_map(model) is not None


def pair_directions(model: SegmentModel, profiles: np.ndarray) -> dict[tuple[int, int], PairDirection]:
    """Every ordered pair ``(s, r)`` of segment ids: its :class:`PairDirection` (see the
    module docstring; ``profiles`` row i is segment_id i + 1's mean scaled features, used
    when the reducer is not linear)."""
    mapped = linear_map(model)
    pairs = {}
    for own in range(1, model.n_segments + 1):
        for runner in range(1, model.n_segments + 1):
            if own == runner:
                continue
            if mapped is not None:
                kernel, bias = mapped
                c_s, c_r = model.centroids[own - 1], model.centroids[runner - 1]
                direction = kernel @ (c_s - c_r)
                midpoint = ((c_s + c_r) / 2 - bias) @ np.linalg.pinv(kernel)
            else:
                p_s, p_r = profiles[own - 1], profiles[runner - 1]
                direction, midpoint = p_s - p_r, (p_s + p_r) / 2
            pairs[(own, runner)] = PairDirection(direction=direction, midpoint=midpoint)
    return pairs


def contributions(
    model: SegmentModel, profiles: np.ndarray, raw: np.ndarray, segment_ids: np.ndarray, runner_up: np.ndarray
) -> np.ndarray:
    """``rows x features`` contributions (numpy reference of the SQL); NaN rows where
    there is no runner-up (0: a single segment)."""
    scaled = model.scale(raw)
    out = np.full(scaled.shape, np.nan)
    for (own, runner), pair in pair_directions(model, profiles).items():
        rows = (segment_ids == own) & (runner_up == runner)
        out[rows] = 2.0 * (scaled[rows] - pair.midpoint) * pair.direction
    return out


def _pair_case(pairs: Mapping[tuple[int, int], float]) -> str:
    arms = " ".join(
        f"when {own * 1000 + runner} then {double_literal(value)}" for (own, runner), value in pairs.items()
    )
    return f"case segment_pair {arms} end"


def _number_text(expression: str, unit: str) -> str:
    decimals, suffix = UNIT_FORMATS.get(unit, (2, ""))
    rounded = f"cast(round({expression}, 0) as bigint)" if decimals == 0 else f"round({expression}, {decimals})"
    text = f"cast({rounded} as string)"
    return f"coalesce({text}, 'n/a')" + (f" || {string_literal(suffix)}" if suffix else "")


def _by_position(values: Sequence[str]) -> str:
    arms = " ".join(f"when {position} then {value}" for position, value in enumerate(values, start=1))
    return f"case feature_position {arms} end"


def _medians_case(medians: np.ndarray, segment_column: str, position: int) -> str:
    arms = " ".join(
        f"when {segment} then {double_literal(row[position])}"
        for segment, row in enumerate(medians, start=1)
        if np.isfinite(row[position])
    )
    return f"case {segment_column} {arms} end" if arms else "cast(null as double)"


def reasons_select(
    model: SegmentModel,
    profiles: np.ndarray,
    medians: np.ndarray,
    units: Mapping[str, str],
    source: str,
) -> str:
    """SQL of ``customer_segment_reasons`` from ``source``: a relation with
    ``customer_id``, ``segment_id``, ``runner_up_segment_id`` and the version's raw
    feature columns. Up to :data:`REASONS_PER_CUSTOMER` rows per customer (its positive
    contributions, largest first): ``customer_id``, ``segment_id``,
    ``runner_up_segment_id``, ``reason_rank``, ``feature``, ``contribution``,
    ``feature_value``, ``segment_median``, ``runner_up_median``, ``reason``.
    ``medians`` row i holds segment_id i + 1's median of each feature in real units."""
    features = [identifier(name) for name in model.features]
    pairs = pair_directions(model, profiles)
    scaled = [
        f"({transformed_feature(model, position)} - {double_literal(mean)}) / {double_literal(scale)}"
        for position, (mean, scale) in enumerate(zip(model.scaler_mean, model.scaler_scale, strict=True))
    ]
    terms = [
        f"2e0 * ({scaled[position]} - {_pair_case({key: pair.midpoint[position] for key, pair in pairs.items()})})"
        f" * {_pair_case({key: pair.direction[position] for key, pair in pairs.items()})}"
        f" as contribution_{position + 1}"
        for position in range(len(features))
    ]
    sql = _select(
        ["customer_id", "segment_id", "runner_up_segment_id", *features, *terms],
        f"select *, segment_id * 1000 + runner_up_segment_id as segment_pair from {source}"
        " where runner_up_segment_id is not null",
        "reasons_input",
    )
    contribution_columns = [f"contribution_{position}" for position in range(1, len(features) + 1)]
    chosen: list[str] = []
    for rank in range(1, min(REASONS_PER_CUSTOMER, len(features)) + 1):
        candidates = [
            "case when "
            + " or ".join([f"top_{earlier} = {position}" for earlier in range(1, rank)] or ["false"])
            + f" then null else {column} end"
            for position, column in enumerate(contribution_columns, start=1)
        ]
        best = candidates[0] if len(candidates) == 1 else f"greatest({', '.join(candidates)})"
        sql = _select(["*", f"{best} as top_value_{rank}"], sql, f"reasons_best_{rank}")
        which = " ".join(
            f"when {candidate} = top_value_{rank} then {position}"
            for position, candidate in enumerate(candidates, start=1)
        )
        sql = _select(["*", f"case {which} end as top_{rank}"], sql, f"reasons_top_{rank}")
        chosen.append(str(rank))
    ranks = " union all ".join(f"select {rank} as reason_rank" for rank in chosen)
    position = "case reason_rank " + " ".join(f"when {rank} then top_{rank}" for rank in chosen) + " end"
    sql = _select(
        ["*", f"{position} as feature_position"],
        f"select * from (\n{sql}\n) as reasons_picked cross join ({ranks}) as reasons_ranks",
        "reasons_ranked",
    )
    value = _by_position(features)
    segment_median = _by_position([_medians_case(medians, "segment_id", j) for j in range(len(features))])
    runner_median = _by_position([_medians_case(medians, "runner_up_segment_id", j) for j in range(len(features))])
    sql = _select(
        [
            "customer_id",
            "segment_id",
            "runner_up_segment_id",
            "reason_rank",
            "feature_position",
            f"{_by_position([string_literal(name) for name in features])} as feature",
            f"{_by_position(contribution_columns)} as contribution",
            f"{value} as feature_value",
            f"{segment_median} as segment_median",
            f"{runner_median} as runner_up_median",
        ],
        sql,
        "reasons_values",
    )
    sentences = [
        f"{string_literal(name.replace('_', ' ') + ' ')} || {_number_text('feature_value', units.get(name, ''))}"
        f" || ' (segment median ' || {_number_text('segment_median', units.get(name, ''))}"
        f" || ', runner-up median ' || {_number_text('runner_up_median', units.get(name, ''))} || ')'"
        for name in features
    ]
    return _select(
        [
            "customer_id",
            "cast(reason_rank as int) as reason_rank",
            "feature",
            "contribution",
            "feature_value",
            "segment_median",
            "runner_up_median",
            f"{_by_position(sentences)} as reason",
            "cast(segment_id as int) as segment_id",
            "cast(runner_up_segment_id as int) as runner_up_segment_id",
        ],
        f"select * from (\n{sql}\n) as reasons_all where feature_position is not null and contribution > 0e0",
        "reasons_final",
    )
