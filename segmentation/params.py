"""Validation of the parameters that reach the Python models.

dbt vars arrive in a Python model through its config, rendered as text (for example
``"3"``). Each parameter keeps one name everywhere: the dbt var, the config key and the
field of :class:`SegmentationParams`. Names, defaults and accepted values are declared once,
in :mod:`segmentation.vars`; a bad value stops the build with a message naming the var, the
value, the accepted values and how to set it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from segmentation.vars import PYTHON_VARS, VARS_BY_NAME, ParameterError, parse_var, var_default

__all__ = [
    "REDUCERS",
    "ParameterError",
    "SegmentationParams",
    "parse_layer_widths",
    "parse_n_components",
    "parse_n_segments",
    "parse_random_seed",
    "parse_reducer",
]

#: Accepted values of var ``reducer``.
REDUCERS: tuple[str, ...] = VARS_BY_NAME["reducer"].choices


def parse_n_segments(value: Any) -> int | None:
    """The number of segments k: a whole number of at least 1, or ``auto`` (None)."""
    return parse_var("n_segments", value)


def parse_random_seed(value: Any) -> int:
    """The seed of every random step: a whole number of at least 0."""
    return parse_var("random_seed", value)


def parse_n_components(value: Any) -> int | float:
    """Reduced dimensions: a whole number >= 1, or a share of variance to keep in (0, 1)."""
    return parse_var("n_components", value)


def parse_reducer(value: Any) -> str:
    """One of :data:`REDUCERS`."""
    return parse_var("reducer", value)


def parse_layer_widths(name: str, value: Any) -> tuple[int, ...]:
    """Hidden layer widths of var ``name``: ``[32, 16]``, ``"32,16"`` or ``16``; ``[]`` for none."""
    return parse_var(name, value)


@dataclass(frozen=True)
class SegmentationParams:
    """The validated parameters of the segment models; each field is a dbt var (a
    VarSpec with python=True in segmentation/vars.py, whose default it takes)."""

    #: Number of segments k; None means 'auto' (the knee of the elbow curve).
    n_segments: int | None = var_default("n_segments")
    random_seed: int = var_default("random_seed")
    reducer: str = var_default("reducer")
    #: How the features marked ``transform: log`` are transformed before scaling.
    feature_transform: str = var_default("feature_transform")
    #: Reduced dimensions: a count, or a share of variance (PCA's count sets the
    #: autoencoder's bottleneck).
    n_components: int | float = var_default("n_components")
    elbow_max_k: int = var_default("elbow_max_k")
    elbow_sample_size: int = var_default("elbow_sample_size")
    silhouette_sample_size: int = var_default("silhouette_sample_size")
    #: The final k-means fit uses a seeded sample of at most this many train customers
    #: (every customer is then assigned to the nearest centroid).
    kmeans_sample_size: int = var_default("kmeans_sample_size")
    autoencoder_hidden_layers: tuple[int, ...] = var_default("autoencoder_hidden_layers")
    autoencoder_epochs: int = var_default("autoencoder_epochs")
    autoencoder_batch_size: int = var_default("autoencoder_batch_size")
    autoencoder_patience: int = var_default("autoencoder_patience")
    autoencoder_sample_size: int = var_default("autoencoder_sample_size")
    #: Fit a new model version (True) or score with a stored one (False).
    refit: bool = var_default("refit")
    #: The stored version a build with refit false scores with; None: the latest.
    model_version: int | None = var_default("model_version")
    #: The share of train customers a new version flags as atypical.
    contamination: float = var_default("contamination")
    #: PSI above which feature_drift flags a feature.
    drift_psi_threshold: float = var_default("drift_psi_threshold")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SegmentationParams:
        """Validate the parameters read from a dbt model's config.

        ``config`` maps var names to values; a var it lacks keeps its default. dbt only
        hands a Python model the config keys it sees in literal ``dbt.config.get("key")``
        calls, so the models read one key, ``segmentation_params``, holding them all.
        """
        unknown = sorted(set(config) - set(PYTHON_VARS))
        if unknown:
            raise ParameterError(
                f"unknown segmentation parameters {unknown}; known: {sorted(PYTHON_VARS)}. A new one is declared "
                "in segmentation/vars.py (python=True), then run make generated."
            )
        params = cls(**{name: parse_var(name, value) for name, value in config.items() if value is not None})
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


assert {field.name for field in fields(SegmentationParams)} == set(PYTHON_VARS), (
    "the fields of SegmentationParams are the vars declared with python=True in segmentation/vars.py"
)
