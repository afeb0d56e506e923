"""Render a stored model version as SQL: scaler, dense layers, nearest centroid.

A :class:`~segmentation.scoring.model.SegmentModel` is plain arithmetic: transform the
skewed features (``ln(greatest(x, 0) + shift)`` with the version's learned shift), standardise
each feature, pass the scaled values through dense layers (``activation(x @ kernel +
bias)``: PCA is one linear layer, the autoencoder's encoder its relu layers and a linear
bottleneck, ``none`` no layer), then take the nearest centroid. This module writes that
arithmetic as one SQL ``select`` with the version's numbers as literals, so the database
scores every customer (multi-threaded, streaming, spilling to disk when it must) and the
rows never enter Python.

The SQL is portable (``least``, ``greatest``, ``ln``, ``sqrt``, ``tanh``, ``case``; numbers as
double literals with an exponent, which DuckDB and Spark SQL both read as DOUBLE, never
as DECIMAL), so the same text runs on DuckDB and on Spark. It computes what
:meth:`SegmentModel.reduce` and :meth:`SegmentModel.assign` compute with numpy; the
tests check both agree to 1e-9 for every reducer.

Three renderings share the same steps:

- :func:`reduced_select`: ``customer_id``, the pass-through columns and ``component_1..d``;
- :func:`segments_select`: from a relation with the component columns, ``customer_id``,
  ``segment_id``, ``segment_name``, ``model_version``, ``distance_to_centroid``,
  ``confidence`` and the pass-through columns;
- :func:`score_select`: both at once, from the engineered features (what the
  ``score_customers`` macro runs).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from segmentation.scoring.model import COMPONENT_PREFIX, SegmentModel

#: Where :func:`score_template` leaves the input relation's name.
INPUT_PLACEHOLDER = "__score_customers_input__"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ACTIVATIONS = {"linear": "{}", "relu": "greatest({}, 0e0)", "tanh": "tanh({})"}


class ScoringSqlError(ValueError):
    """A model version or input that cannot be rendered as SQL; the message says why."""


def double_literal(value: float) -> str:
    """``value`` as a SQL double literal that round-trips exactly: Python's shortest repr
    with an exponent (``0.1`` -> ``0.1e0``), so that DuckDB and Spark read a DOUBLE
    rather than a DECIMAL; negative values parenthesised."""
    value = float(value)
    if not math.isfinite(value):
        raise ScoringSqlError(f"cannot render {value!r} as SQL: a stored model version holds only finite numbers")
    text = repr(value)
    if "e" not in text and "E" not in text:
        text += "e0"
    return f"({text})" if value < 0 else text


def string_literal(text: str) -> str:
    """``text`` as a SQL string expression that DuckDB and Spark read alike: quotes and
    backslashes (escaped differently by the two) are spliced in with ``chr()``."""
    parts = re.split(r"(['\\])", text)
    pieces = [f"chr({ord(part)})" if part in ("'", "\\") else f"'{part}'" for part in parts if part]
    if not pieces:
        return "''"
    return pieces[0] if len(pieces) == 1 else "(" + " || ".join(pieces) + ")"


def identifier(name: str) -> str:
    """A column name, checked to be a plain identifier (it is written into SQL as is)."""
    if not _IDENTIFIER.match(name):
        raise ScoringSqlError(f"column name {name!r} is not a plain SQL identifier (letters, digits, underscores)")
    return name


def _linear_combination(inputs: Sequence[str], weights: np.ndarray, bias: float) -> str:
    terms = [f"{column} * {double_literal(weight)}" for column, weight in zip(inputs, weights, strict=True)]
    return " + ".join([*terms, double_literal(bias)])


def _select(columns: Sequence[str], source: str, alias: str) -> str:
    body = ",\n    ".join(columns)
    return f"select\n    {body}\nfrom (\n{source}\n) as {alias}"


def _check_model(model: SegmentModel) -> None:
    width = len(model.features)
    for position, layer in enumerate(model.layers, start=1):
        if layer.activation not in _ACTIVATIONS:
            raise ScoringSqlError(
                f"layer {position} has activation {layer.activation!r}; SQL scoring renders {sorted(_ACTIVATIONS)}"
            )
        if layer.kernel.shape[0] != width:
            raise ScoringSqlError(
                f"layer {position} takes {layer.kernel.shape[0]} inputs, the one before gives {width}"
            )
        width = layer.kernel.shape[1]


def transformed_feature(model: SegmentModel, position: int) -> str:
    """SQL of feature ``position`` (0-based) with the version's learned transform:
    ``ln(greatest(x, 0) + shift)`` for a log-transformed feature, with a zero (or
    negative) amount set to the version's zero value where it has one; the column itself
    otherwise (as :meth:`SegmentModel.transform`)."""
    name = identifier(model.features[position])
    shift, zero_value = model.log_shifts[position], model.zero_values[position]
    if math.isnan(shift):
        return name
    if math.isnan(zero_value):
        return f"ln(greatest({name}, 0e0) + {double_literal(shift)})"
    return f"case when {name} > 0e0 then ln({name} + {double_literal(shift)}) else {double_literal(zero_value)} end"


def reduced_select(model: SegmentModel, source: str, passthrough: Sequence[str] = ()) -> str:
    """SQL selecting ``customer_id``, ``passthrough`` and ``component_1..d`` (the
    version's reduced coordinates) from ``source`` (a table name or a parenthesised
    query) with the version's feature columns."""
    _check_model(model)
    keep = ["customer_id", *(identifier(column) for column in passthrough)]
    scaled = [
        f"({transformed_feature(model, position - 1)} - {double_literal(mean)}) / {double_literal(scale)}"
        f" as scaled_{position}"
        for position, (mean, scale) in enumerate(zip(model.scaler_mean, model.scaler_scale, strict=True), start=1)
    ]
    features = model.features
    sql = _select([*keep, *scaled], f"select * from {source}", "scoring_input")
    inputs = [f"scaled_{position}" for position in range(1, len(features) + 1)]
    for depth, layer in enumerate(model.layers, start=1):
        units = [
            _ACTIVATIONS[layer.activation].format(_linear_combination(inputs, layer.kernel[:, unit], layer.bias[unit]))
            + f" as layer_{depth}_unit_{unit + 1}"
            for unit in range(layer.kernel.shape[1])
        ]
        sql = _select([*keep, *units], sql, f"scoring_layer_{depth - 1}")
        inputs = [f"layer_{depth}_unit_{unit}" for unit in range(1, layer.kernel.shape[1] + 1)]
    components = [f"{column} as {COMPONENT_PREFIX}{position}" for position, column in enumerate(inputs, start=1)]
    return _select([*keep, *components], sql, "scoring_reduced")


def segments_select(
    model: SegmentModel,
    source: str,
    model_version: int,
    segment_names: Mapping[int, str],
    passthrough: Sequence[str] = (),
) -> str:
    """SQL giving every row of ``source`` (with ``customer_id`` and the version's
    ``component_1..d``) its nearest centroid: ``customer_id``, ``segment_id``, ``segment_name``, ``model_version``,
    ``distance_to_centroid``, ``confidence``, ``runner_up_segment_id``, ``assignment_margin``,
    ``normalized_distance``, ``is_atypical``, then ``passthrough``.

    As :meth:`SegmentModel.assign`, :meth:`SegmentModel.runner_up` and
    :meth:`SegmentModel.normalized_distance`: ties go to the lowest ``segment_id``;
    ``confidence`` is ``1 - nearest / second-nearest distance`` (0 when the second-nearest
    distance is 0, 1 with a single segment); the runner-up is the nearest other centroid
    and the margin the squared distance to it minus the squared distance to the own one
    (both null with a single segment); ``is_atypical`` compares the normalized distance
    with the version's calibrated threshold (null for a version without one)."""
    keep = [identifier(column) for column in passthrough]
    n_segments, n_dimensions = model.centroids.shape
    if n_segments == 0:
        raise ScoringSqlError("the model version has no centroids: it cannot assign segments")
    missing = [segment for segment in range(1, n_segments + 1) if segment not in segment_names]
    if missing:
        raise ScoringSqlError(f"segment ids {missing} have no name in the model version")
    components = [f"{COMPONENT_PREFIX}{position}" for position in range(1, n_dimensions + 1)]
    distances = [
        "sqrt("
        + " + ".join(
            f"({column} - {double_literal(value)}) * ({column} - {double_literal(value)})"
            for column, value in zip(components, centroid, strict=True)
        )
        + f") as distance_{segment}"
        for segment, centroid in enumerate(model.centroids, start=1)
    ]
    sql = _select(["customer_id", *keep, *distances], source, "scoring_components")
    names = [f"distance_{segment}" for segment in range(1, n_segments + 1)]
    nearest = _least(names)
    sql = _select(["*", f"{nearest} as nearest_distance"], sql, "scoring_distances")
    which = " ".join(f"when {name} = nearest_distance then {segment}" for segment, name in enumerate(names, start=1))
    sql = _select(["*", f"case {which} end as segment_id"], sql, "scoring_nearest")
    if n_segments == 1:
        sql = _select(
            ["*", "cast(null as double) as second_distance", "cast(null as int) as runner_up_segment_id"],
            sql,
            "scoring_runner_up",
        )
        confidence = "1e0"
    else:
        second = _least(
            [f"case when segment_id = {segment} then null else {name} end" for segment, name in enumerate(names, 1)]
        )
        sql = _select(["*", f"{second} as second_distance"], sql, "scoring_second")
        runner = " ".join(
            f"when segment_id <> {segment} and {name} = second_distance then {segment}"
            for segment, name in enumerate(names, start=1)
        )
        sql = _select(["*", f"case {runner} end as runner_up_segment_id"], sql, "scoring_runner_up")
        confidence = "case when second_distance > 0e0 then 1e0 - nearest_distance / second_distance else 0e0 end"
    label = " ".join(
        f"when {segment} then {string_literal(segment_names[segment])}" for segment in range(1, n_segments + 1)
    )
    normalized = _normalized_distance(model)
    return _select(
        [
            "customer_id",
            "cast(segment_id as int) as segment_id",
            f"case segment_id {label} end as segment_name",
            f"cast({int(model_version)} as int) as model_version",
            "nearest_distance as distance_to_centroid",
            f"{confidence} as confidence",
            "cast(runner_up_segment_id as int) as runner_up_segment_id",
            "second_distance * second_distance - nearest_distance * nearest_distance as assignment_margin",
            f"{normalized} as normalized_distance",
            f"{_is_atypical(model, normalized)} as is_atypical",
            *keep,
        ],
        sql,
        "scoring_assigned",
    )


def _normalized_distance(model: SegmentModel) -> str:
    """SQL of the distance to the own centroid over the segment's train radius (null
    without radii, or for a segment of radius 0), as :meth:`SegmentModel.normalized_distance`."""
    if len(model.segment_radii) != model.n_segments:
        return "cast(null as double)"
    arms = " ".join(
        f"when {segment} then nearest_distance / {double_literal(radius)}"
        for segment, radius in enumerate(model.segment_radii, start=1)
        if radius > 0
    )
    return f"case segment_id {arms} end" if arms else "cast(null as double)"


def _is_atypical(model: SegmentModel, normalized: str) -> str:
    """SQL of ``is_atypical``: the normalized distance above the version's calibrated
    threshold (null for a version without one)."""
    if not model.is_calibrated:
        return "cast(null as boolean)"
    return f"coalesce({normalized} > {double_literal(model.atypical_threshold)}, false)"


def _least(expressions: Sequence[str]) -> str:
    """``least`` of the expressions (nulls ignored, as DuckDB and Spark both do); a
    single expression as it is (``least`` needs two arguments on Spark)."""
    return expressions[0] if len(expressions) == 1 else f"least({', '.join(expressions)})"


def score_select(
    model: SegmentModel,
    source: str,
    model_version: int,
    segment_names: Mapping[int, str],
    passthrough: Sequence[str] = (),
) -> str:
    """SQL scoring ``source`` (``customer_id`` and the version's feature columns) from end
    to end: :func:`reduced_select` then :func:`segments_select`."""
    reduced = f"(\n{reduced_select(model, source, passthrough)}\n)"
    return segments_select(model, reduced, model_version, segment_names, passthrough)


def score_template(model: SegmentModel, model_version: int, segment_names: Mapping[int, str]) -> str:
    """:func:`score_select` with :data:`INPUT_PLACEHOLDER` where the input relation goes:
    what the ``score_customers`` macro fills in."""
    return score_select(model, INPUT_PLACEHOLDER, model_version, segment_names)
