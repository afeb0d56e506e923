"""Validation of the parameters that reach the Python models."""

from __future__ import annotations

import pytest

from segmentation.params import (
    ParameterError,
    SegmentationParams,
    parse_n_components,
    parse_n_segments,
    parse_random_seed,
)


@pytest.mark.parametrize(("value", "expected"), [(3, 3), ("4", 4), (" 5 ", 5), ("2.0", 2), (1, 1)])
def test_n_segments_accepts_whole_numbers(value, expected):
    assert parse_n_segments(value) == expected


@pytest.mark.parametrize("value", ["0", "-2", "2.5", "three", "", None, True, "nan", "inf"])
def test_n_segments_refuses_anything_else_and_says_how_to_fix(value):
    with pytest.raises(ParameterError) as error:
        parse_n_segments(value)
    message = str(error.value)
    assert message.startswith("var n_segments must be")
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


def test_params_from_dbt_config_strings():
    params = SegmentationParams.from_config({"n_segments": "4", "random_seed": "7", "n_components": "0.8"})
    assert params == SegmentationParams(n_segments=4, random_seed=7, n_components=0.8)
