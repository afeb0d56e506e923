"""SQL scoring: a stored version rendered as SQL gives what numpy gives, on small models
(every activation, ties, one segment, literals, quoting, refused names); on the real
features of the demo data and cc_general: tests/integration/test_scoring_sql_parity.py.
"""

from __future__ import annotations

from dataclasses import replace

import duckdb
import numpy as np
import pandas as pd
import pytest

from segmentation.scoring.model import DenseLayer, SegmentModel
from segmentation.scoring.sql import (
    INPUT_PLACEHOLDER,
    ScoringSqlError,
    double_literal,
    reduced_select,
    score_select,
    score_template,
    segments_select,
    string_literal,
)

TOLERANCE = 1e-9
FAST_AUTOENCODER = {"autoencoder_epochs": 8, "autoencoder_hidden_layers": (12, 8)}


def tiny_model(activation: str = "relu", centroids=((0.0, 0.0), (1.0, 1.0))) -> SegmentModel:
    return SegmentModel(
        features=("a", "b"),
        scaler_mean=np.array([1.0, -2.0]),
        scaler_scale=np.array([2.0, 0.5]),
        reducer="autoencoder",
        layers=(
            DenseLayer(np.array([[1.0, -1.0, 0.5], [0.25, 2.0, -3.0]]), np.array([0.1, -0.2, 0.3]), activation),
            DenseLayer(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.0, 0.5])),
        ),
        centroids=np.array(centroids),
    )


@pytest.mark.parametrize("activation", ["relu", "tanh", "linear"])
def test_every_activation_matches_numpy(activation):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(500)], "a": rng.normal(size=500) * 3})
    frame["b"] = rng.normal(size=500)
    model = tiny_model(activation)
    if activation == "tanh":  # numpy's side of a tanh layer, for this check
        values = model.scale(frame[["a", "b"]].to_numpy())
        hidden = np.tanh(values @ model.layers[0].kernel + model.layers[0].bias)
        expected = model.layers[1](hidden)
    else:
        expected = model.reduce(frame[["a", "b"]].to_numpy())
    with duckdb.connect() as connection:
        connection.register("frame", frame)
        got = connection.sql(reduced_select(model, "frame")).df()
    np.testing.assert_allclose(got[["component_1", "component_2"]].to_numpy(), expected, rtol=0, atol=TOLERANCE)


def test_ties_go_to_the_lowest_segment_and_give_zero_confidence():
    model = SegmentModel(("a",), np.array([0.0]), np.array([1.0]), "none", (), np.array([[-1.0], [1.0], [3.0]]))
    frame = pd.DataFrame({"customer_id": ["tie", "near_3", "at_1"], "a": [0.0, 2.9, -1.0]})
    with duckdb.connect() as connection:
        connection.register("frame", frame)
        got = connection.sql(score_select(model, "frame", 7, {1: "one", 2: "two", 3: "three"})).df()
    got = got.set_index("customer_id")
    ids, distances, confidence = model.assign(frame[["a"]].to_numpy())
    assert got["segment_id"].tolist() == ids.tolist() == [1, 3, 1]
    np.testing.assert_allclose(got["distance_to_centroid"], distances, atol=TOLERANCE)
    np.testing.assert_allclose(got["confidence"], confidence, atol=TOLERANCE)
    assert got.loc["tie", "confidence"] == 0.0
    assert got.loc["at_1", "confidence"] == 1.0
    assert (got["model_version"] == 7).all()


def test_one_segment_has_full_confidence():
    model = SegmentModel(("a",), np.array([0.0]), np.array([1.0]), "none", (), np.array([[0.5]]))
    frame = pd.DataFrame({"customer_id": ["x", "y"], "a": [0.0, 4.0]})
    with duckdb.connect() as connection:
        connection.register("frame", frame)
        got = connection.sql(score_select(model, "frame", 1, {1: "everyone"})).df()
    assert got["segment_id"].tolist() == [1, 1]
    assert got["confidence"].tolist() == [1.0, 1.0]


def test_literals_are_doubles_that_round_trip():
    values = [0.1, -1 / 3, 1e-300, 123456789.123456789, -0.0, 2.5e17]
    with duckdb.connect() as connection:
        for value in values:
            literal = double_literal(value)
            assert connection.execute(f"select typeof({literal}), {literal}").fetchone() == ("DOUBLE", value)
    with pytest.raises(ScoringSqlError, match="finite"):
        double_literal(float("nan"))


def test_segment_names_with_quotes_and_backslashes_are_kept():
    with duckdb.connect() as connection:
        for name in ["Big spenders' club", "a\\b", "''", "plain", ""]:
            assert connection.execute(f"select {string_literal(name)}").fetchone()[0] == name


def test_bad_column_names_and_activations_are_refused():
    model = tiny_model()
    with pytest.raises(ScoringSqlError, match="plain SQL identifier"):
        reduced_select(replace(model, features=("a", "b; drop table x")), "t")
    with pytest.raises(ScoringSqlError, match="activation 'gelu'"):
        reduced_select(tiny_model("gelu"), "t")
    with pytest.raises(ScoringSqlError, match=r"segment ids \[2\] have no name"):
        segments_select(model, "t", 1, {1: "one"})


def test_template_leaves_a_placeholder_for_the_input():
    template = score_template(tiny_model(), 3, {1: "one", 2: "two"})
    assert template.count(INPUT_PLACEHOLDER) == 1
