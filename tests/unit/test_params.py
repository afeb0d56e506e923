"""Validation of the parameters that reach the Python models."""

from __future__ import annotations

import pytest

from segmentation.params import (
    ParameterError,
    SegmentationParams,
    parse_layer_widths,
    parse_n_components,
    parse_n_segments,
    parse_random_seed,
    parse_reducer,
)


@pytest.mark.parametrize(("value", "expected"), [(3, 3), ("4", 4), (" 5 ", 5), ("2.0", 2), (1, 1)])
def test_n_segments_accepts_whole_numbers(value, expected):
    assert parse_n_segments(value) == expected


@pytest.mark.parametrize("value", ["auto", "AUTO", " auto "])
def test_n_segments_auto_means_the_knee(value):
    assert parse_n_segments(value) is None


@pytest.mark.parametrize("value", ["0", "-2", "2.5", "three", "", None, True, "nan", "inf"])
def test_n_segments_refuses_anything_else_and_says_how_to_fix(value):
    with pytest.raises(ParameterError) as error:
        parse_n_segments(value)
    message = str(error.value)
    assert message.startswith("var n_segments must be a whole number of at least 1 or 'auto'")
    assert repr(value) in message
    assert "--vars '{n_segments: 3}'" in message


def test_random_seed_allows_zero_but_not_negative():
    assert parse_random_seed("0") == 0
    with pytest.raises(ParameterError, match="var random_seed must be a whole number of at least 0"):
        parse_random_seed(-1)


@pytest.mark.parametrize(("value", "expected"), [("0.9", 0.9), (0.5, 0.5), ("5", 5), (2, 2)])
def test_n_components_is_a_count_or_a_share(value, expected):
    result = parse_n_components(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("value", ["0", "1.5", "-0.2", "x"])
def test_n_components_refuses_other_values(value):
    with pytest.raises(ParameterError, match="var n_components must be"):
        parse_n_components(value)


@pytest.mark.parametrize(("value", "expected"), [("pca", "pca"), (" Autoencoder ", "autoencoder"), ("none", "none")])
def test_reducer_names(value, expected):
    assert parse_reducer(value) == expected


def test_unknown_reducer_lists_the_accepted_ones():
    with pytest.raises(ParameterError, match="var reducer must be one of pca, autoencoder, none, got 'umap'"):
        parse_reducer("umap")


@pytest.mark.parametrize(
    ("value", "expected"), [("[32, 16]", (32, 16)), ("16", (16,)), ([8, 4], (8, 4)), ("[]", ()), (16, (16,))]
)
def test_layer_widths(value, expected):
    assert parse_layer_widths("autoencoder_hidden_layers", value) == expected


def test_bad_layer_width_names_the_var_the_whole_value_and_what_is_accepted():
    with pytest.raises(ParameterError) as error:
        parse_layer_widths("autoencoder_hidden_layers", "[16, wide]")
    assert str(error.value).startswith(
        "var autoencoder_hidden_layers must be a list of layer widths, each a whole number of at least 1 "
        "(for example [32, 16]), got '[16, wide]'. "
        "Set it with: dbt build --vars '{autoencoder_hidden_layers: [32, 16]}'"
    )


def test_params_from_dbt_config_strings():
    params = SegmentationParams.from_config(
        {
            "n_segments": "auto",
            "random_seed": "7",
            "n_components": "0.8",
            "reducer": "autoencoder",
            "autoencoder_hidden_layers": "[32, 16]",
            "elbow_max_k": "12",
        }
    )
    assert params == SegmentationParams(
        n_segments=None,
        random_seed=7,
        n_components=0.8,
        reducer="autoencoder",
        autoencoder_hidden_layers=(32, 16),
        elbow_max_k=12,
    )
    assert params.n_segments_label == "auto"


def test_unknown_parameter_is_refused():
    with pytest.raises(ParameterError, match=r"unknown segmentation parameters \['n_segment'\]"):
        SegmentationParams.from_config({"n_segment": "3"})
