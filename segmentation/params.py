"""Validation of the parameters that reach the Python models.

dbt vars arrive in a Python model through its config, rendered as text (for example
``"3"``). Each parameter keeps one name everywhere: the dbt var, the config key and the
argument of the package functions. A bad value stops the build with a message naming
the var, the value and the accepted values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ParameterError(ValueError):
    """A dbt var has a value the segmentation cannot use."""


def _how_to_set(name: str, example: str) -> str:
    return f"Set it with: dbt build --vars '{{{name}: {example}}}'"


def _as_number(name: str, value: Any, example: str) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ParameterError(f"var {name} must be a number, got {value!r}. {_how_to_set(name, example)}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ParameterError(f"var {name} must be a finite number, got {value!r}. {_how_to_set(name, example)}")
    return number


def parse_positive_int(name: str, value: Any, example: str = "3", minimum: int = 1) -> int:
    """A whole number >= ``minimum`` (``4``, ``"4"`` or ``"4.0"``)."""
    if isinstance(value, bool):
        raise ParameterError(f"var {name} must be a whole number, got {value!r}. {_how_to_set(name, example)}")
    number = _as_number(name, value, example)
    if number != int(number) or number < minimum:
        raise ParameterError(
            f"var {name} must be a whole number of at least {minimum}, got {value!r}. {_how_to_set(name, example)}"
        )
    return int(number)


def parse_n_segments(value: Any) -> int:
    """The number of segments k: a whole number of at least 1."""
    return parse_positive_int("n_segments", value, example="3")


def parse_random_seed(value: Any) -> int:
    """The seed of every random step: a whole number of at least 0."""
    return parse_positive_int("random_seed", value, example="42", minimum=0)


def parse_n_components(value: Any) -> int | float:
    """PCA components: a whole number >= 1, or a share of variance to keep in (0, 1)."""
    number = _as_number("n_components", value, "0.9")
    if 0 < number < 1:
        return number
    if number >= 1 and number == int(number):
        return int(number)
    raise ParameterError(
        f"var n_components must be a whole number of components (>= 1) or a share of "
        f"variance to keep between 0 and 1, got {value!r}. {_how_to_set('n_components', '0.9')}"
    )


@dataclass(frozen=True)
class SegmentationParams:
    """The validated parameters of the segment model."""

    n_segments: int = 3
    random_seed: int = 42
    n_components: int | float = 0.9

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SegmentationParams:
        """Validate the parameters read from a dbt model's config.

        dbt only hands a Python model the config keys it sees in literal
        ``dbt.config.get("key")`` calls, so the model reads them and passes a mapping.
        """
        return cls(
            n_segments=parse_n_segments(config.get("n_segments")),
            random_seed=parse_random_seed(config.get("random_seed")),
            n_components=parse_n_components(config.get("n_components")),
        )
