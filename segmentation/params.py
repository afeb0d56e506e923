"""Validation of the parameters that reach the Python models.

dbt vars arrive in a Python model through its config, rendered as text (for example
``"3"``). Each parameter keeps one name everywhere: the dbt var, the config key and the
field of :class:`SegmentationParams`. A bad value stops the build with a message naming
the var, the value and the accepted values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

#: Accepted values of var ``reducer``.
REDUCERS: tuple[str, ...] = ("pca", "autoencoder", "none")


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


def parse_n_segments(value: Any) -> int | None:
    """The number of segments k: a whole number of at least 1, or ``auto`` (None)."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return None
    try:
        return parse_positive_int("n_segments", value, example="3")
    except ParameterError:
        raise ParameterError(
            f"var n_segments must be a whole number of at least 1 or 'auto' (the knee of the elbow curve), "
            f"got {value!r}. {_how_to_set('n_segments', '3')}"
        ) from None


def parse_random_seed(value: Any) -> int:
    """The seed of every random step: a whole number of at least 0."""
    return parse_positive_int("random_seed", value, example="42", minimum=0)


def parse_n_components(value: Any) -> int | float:
    """Reduced dimensions: a whole number >= 1, or a share of variance to keep in (0, 1)."""
    number = _as_number("n_components", value, "0.9")
    if 0 < number < 1:
        return number
    if number >= 1 and number == int(number):
        return int(number)
    raise ParameterError(
        f"var n_components must be a whole number of components (>= 1) or a share of "
        f"variance to keep between 0 and 1, got {value!r}. {_how_to_set('n_components', '0.9')}"
    )


def parse_reducer(value: Any) -> str:
    """One of :data:`REDUCERS`."""
    name = str(value).strip().lower()
    if name not in REDUCERS:
        raise ParameterError(
            f"var reducer must be one of {', '.join(REDUCERS)}, got {value!r}. {_how_to_set('reducer', 'pca')}"
        )
    return name


def parse_layer_widths(name: str, value: Any) -> tuple[int, ...]:
    """Hidden layer widths: ``[32, 16]``, ``"32,16"`` or ``16``; ``[]`` for none."""
    items = (
        value if isinstance(value, list | tuple) else [part for part in re.split(r"[\s,\[\]()]+", str(value)) if part]
    )
    return tuple(parse_positive_int(name, item, example="[32, 16]") for item in items)


def parse_bool(name: str, value: Any) -> bool:
    """true or false (also as text, any case)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ParameterError(f"var {name} must be true or false, got {value!r}. {_how_to_set(name, 'false')}")
    return text == "true"


def parse_model_version(value: Any) -> int | None:
    """A stored model version (a whole number of at least 1), or empty for the latest."""
    if value is None or str(value).strip().lower() in ("", "none", "latest"):
        return None
    return parse_positive_int("model_version", value, example="2")


_PARSERS = {
    "n_segments": parse_n_segments,
    "random_seed": parse_random_seed,
    "reducer": parse_reducer,
    "n_components": parse_n_components,
    "elbow_max_k": lambda value: parse_positive_int("elbow_max_k", value, "10", minimum=2),
    "elbow_sample_size": lambda value: parse_positive_int("elbow_sample_size", value, "20000", minimum=10),
    "silhouette_sample_size": lambda value: parse_positive_int("silhouette_sample_size", value, "3000", minimum=10),
    "kmeans_sample_size": lambda value: parse_positive_int("kmeans_sample_size", value, "200000", minimum=10),
    "autoencoder_hidden_layers": lambda value: parse_layer_widths("autoencoder_hidden_layers", value),
    "autoencoder_epochs": lambda value: parse_positive_int("autoencoder_epochs", value, "60"),
    "autoencoder_batch_size": lambda value: parse_positive_int("autoencoder_batch_size", value, "512"),
    "autoencoder_patience": lambda value: parse_positive_int("autoencoder_patience", value, "5"),
    "autoencoder_sample_size": lambda value: parse_positive_int("autoencoder_sample_size", value, "20000", 10),
    "refit": lambda value: parse_bool("refit", value),
    "model_version": parse_model_version,
}


@dataclass(frozen=True)
class SegmentationParams:
    """The validated parameters of the segment models; each field is a dbt var."""

    #: Number of segments k; None means 'auto' (the knee of the elbow curve).
    n_segments: int | None = 3
    random_seed: int = 42
    reducer: str = "pca"
    #: Reduced dimensions: a count, or a share of variance (PCA's count sets the
    #: autoencoder's bottleneck).
    n_components: int | float = 0.9
    elbow_max_k: int = 10
    elbow_sample_size: int = 20_000
    silhouette_sample_size: int = 3_000
    #: The final k-means fit uses a seeded sample of at most this many train customers
    #: (every customer is then assigned to the nearest centroid).
    kmeans_sample_size: int = 200_000
    autoencoder_hidden_layers: tuple[int, ...] = (16,)
    autoencoder_epochs: int = 60
    autoencoder_batch_size: int = 512
    autoencoder_patience: int = 5
    autoencoder_sample_size: int = 20_000
    #: Fit a new model version (True) or score with a stored one (False).
    refit: bool = True
    #: The stored version a build with refit false scores with; None: the latest.
    model_version: int | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SegmentationParams:
        """Validate the parameters read from a dbt model's config.

        ``config`` maps var names to values; a var it lacks keeps its default. dbt only
        hands a Python model the config keys it sees in literal ``dbt.config.get("key")``
        calls, so the models read one key, ``segmentation_params``, holding them all.
        """
        unknown = sorted(set(config) - set(_PARSERS))
        if unknown:
            raise ParameterError(f"unknown segmentation parameters {unknown}; known: {sorted(_PARSERS)}")
        params = cls(**{name: _PARSERS[name](value) for name, value in config.items() if value is not None})
        if params.refit and params.model_version is not None:
            raise ParameterError(
                f"var model_version={params.model_version} only applies with refit: false (scoring with a stored "
                "version); a refitting build always stores a new version. "
                f"Set it with: dbt build --vars '{{refit: false, model_version: {params.model_version}}}'"
            )
        return params

    @property
    def n_segments_label(self) -> str:
        """The requested k as the user wrote it: a number or 'auto'."""
        return "auto" if self.n_segments is None else str(self.n_segments)


assert {field.name for field in fields(SegmentationParams)} == set(_PARSERS), "every parameter has a parser"
