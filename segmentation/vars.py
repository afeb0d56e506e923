"""The dbt vars, declared once: name, kind, default, accepted values and one doc line.

Everything else about a var is derived from :data:`VARS` or checked against it:

- :class:`segmentation.params.SegmentationParams` takes its defaults and parsers from here;
- ``macros/var_spec.sql`` (generated) hands the same declarations to ``validate_vars()``
  (``macros/checks.sql``), which checks every var with them before any var reaches SQL;
- the ``segmentation_params`` config block of ``python_models/ml/_ml__models.yml`` and
  the parameters table of ``docs/parameters.md`` are generated between marker lines;
- ``macros/seeded_sample.sql`` gets the seeded sample's SQL of :mod:`segmentation.sampling`
  (not a var, but generated the same way: one definition for Python and Jinja);
- ``dbt_project.yml`` keeps the defaults literally (dbt reads them there):
  ``tests/unit/test_vars.py`` checks them against this module.

``python -m segmentation.vars`` (``make generated``) rewrites the generated parts;
``python -m segmentation.vars --check`` lists the stale ones and exits 1.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import segmentation.sampling as sampling

#: A finite decimal number written out, nothing else (``\\Z``: not even a trailing
#: newline), so that an accepted value can be rendered into SQL as it is. The Jinja
#: checks use the same pattern (macros/var_spec.sql).
NUMBER_PATTERN = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*\Z"
#: Numbers at least this large (in magnitude) are refused as not finite enough for SQL.
NUMBER_LIMIT = 1e300
_NUMBER = re.compile(NUMBER_PATTERN)

Kind = Literal["path", "whole", "number", "count_or_share", "choice", "bool", "whole_list"]


class ParameterError(ValueError):
    """A dbt var has a value the segmentation cannot use."""


def how_to_set(name: str, example: str) -> str:
    """The end of every var error: the command that sets the var, and where it is documented."""
    return f"Set it with: dbt build --vars '{{{name}: {example}}}' (see docs/parameters.md)."


def _format_number(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _render_yaml_value(value: Any) -> str:
    """A default as one writes it in --vars: ``3``, ``0.9``, ``true``, ``[16]``, ``""``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_render_yaml_value(item) for item in value) + "]"
    if value == "":
        return '""'
    return str(value)


class _RefusedValueError(Exception):
    """Internal: the value is not one the var accepts (VarSpec.parse turns it into a ParameterError)."""


@dataclass(frozen=True)
class VarSpec:
    """One dbt var.

    ``kind`` says what values are accepted:

    - ``path``: text (None counts as empty); ``required``: not empty either;
    - ``whole``: a whole number >= ``minimum``;
    - ``number``: a finite number within ``minimum``/``maximum`` (inclusive) and
      ``exclusive_minimum``/``exclusive_maximum`` (exclusive);
    - ``count_or_share``: a whole number >= 1, or a number strictly between 0 and 1;
    - ``choice``: one of ``choices`` (case and surrounding spaces do not matter);
    - ``bool``: true or false (as text, any case);
    - ``whole_list``: a list of whole numbers >= ``minimum`` (``[32, 16]``, ``"32,16"``, ``16``).

    ``none_words`` are texts (any case, spaces around) that mean "not set": the parsed
    value is None (``auto`` for n_segments, empty for model_version). ``python``: the var
    is passed to the Python models (config key ``segmentation_params``) and is a field of
    :class:`~segmentation.params.SegmentationParams`.
    """

    name: str
    kind: Kind
    default: Any
    doc: str
    python: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    choices: tuple[str, ...] = ()
    none_words: tuple[str, ...] = ()
    required: bool = False
    #: What the error message says is accepted; derived from the kind and bounds when empty.
    accepted_text: str = ""
    #: The value the error message's "Set it with" shows; the default when empty.
    example_text: str = ""

    @property
    def accepted(self) -> str:
        """The accepted values in words, as the error messages and the docs say them."""
        if self.accepted_text:
            return self.accepted_text
        if self.kind == "whole":
            text = f"a whole number of at least {_format_number(self.minimum or 0)}"
        elif self.kind == "number":
            text = self._number_bounds_text()
        elif self.kind == "count_or_share":
            text = "a whole number (>= 1) or a share between 0 and 1"
        elif self.kind == "choice":
            text = "one of " + ", ".join(self.choices)
        elif self.kind == "bool":
            text = "true or false"
        elif self.kind == "whole_list":
            text = f"a list of whole numbers, each at least {_format_number(self.minimum or 0)}"
        else:
            text = "a path (text)" + (" that is not empty" if self.required else "")
        return text + "".join(f" or '{word}'" for word in self.none_words)

    def _number_bounds_text(self) -> str:
        low = self.minimum if self.minimum is not None else self.exclusive_minimum
        high = self.maximum if self.maximum is not None else self.exclusive_maximum
        both_exclusive = self.exclusive_minimum is not None and self.exclusive_maximum is not None
        if low is not None and high is not None:
            between = f"a number between {_format_number(low)} and {_format_number(high)}"
            if both_exclusive:
                return between + " (exclusive)"
            if self.exclusive_minimum is None and self.exclusive_maximum is None:
                return between
            raise NotImplementedError(f"{self.name}: one exclusive and one inclusive bound has no wording yet")
        if self.minimum is not None:
            return f"a number of at least {_format_number(self.minimum)}"
        if self.exclusive_minimum is not None:
            return f"a number above {_format_number(self.exclusive_minimum)}"
        if self.maximum is not None:
            return f"a number of at most {_format_number(self.maximum)}"
        if self.exclusive_maximum is not None:
            return f"a number below {_format_number(self.exclusive_maximum)}"
        return "a number"

    @property
    def example(self) -> str:
        """The value shown in "Set it with: dbt build --vars '{name: example}'"."""
        if self.example_text:
            return self.example_text
        if self.kind == "bool":
            return "false" if self.default else "true"
        return _render_yaml_value(self.default)

    def error(self, value: Any) -> ParameterError:
        """The error for a refused ``value``: the var, what is accepted, the value, how to set it."""
        return ParameterError(
            f"var {self.name} must be {self.accepted}, got {value!r}. {how_to_set(self.name, self.example)}"
        )

    def parse(self, value: Any) -> Any:
        """``value`` (as dbt renders it, usually text) as the Python value the var means.

        Raises :class:`ParameterError` naming the var, the value, what is accepted and
        how to set it. The Jinja checks (``_var_is_valid`` in macros/checks.sql) accept
        exactly the same values (tests/unit/test_vars.py compares them)."""
        try:
            return self._parse(value)
        except _RefusedValueError:
            raise self.error(value) from None

    def _parse(self, value: Any) -> Any:
        if self.none_words and not isinstance(value, bool) and str(value).strip().lower() in self.none_words:
            return None
        if self.kind == "path":
            if value is not None and not isinstance(value, str):
                raise _RefusedValueError
            if self.required and not (value or "").strip():
                raise _RefusedValueError
            return value or ""
        if self.kind == "whole":
            return self._whole(value)
        if self.kind == "number":
            return self._number(value)
        if self.kind == "count_or_share":
            number = _as_number(value)
            if 0 < number < 1:
                return number
            if number >= 1 and number.is_integer():
                return int(number)
            raise _RefusedValueError
        if self.kind == "choice":
            text = str(value).strip().lower()
            if text not in self.choices:
                raise _RefusedValueError
            return text
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).lower()
            if text not in ("true", "false"):
                raise _RefusedValueError
            return text == "true"
        if self.kind == "whole_list":
            if isinstance(value, dict):
                raise _RefusedValueError
            items = (
                value
                if isinstance(value, list | tuple)
                else [part for part in re.split(r"[\s,\[\]()]+", str(value)) if part]
            )
            return tuple(self._whole(item) for item in items)
        raise NotImplementedError(self.kind)

    def _whole(self, value: Any) -> int:
        number = _as_number(value)
        if not number.is_integer() or number < (self.minimum or 0):
            raise _RefusedValueError
        return int(number)

    def _number(self, value: Any) -> float:
        number = _as_number(value)
        if (
            (self.minimum is not None and number < self.minimum)
            or (self.maximum is not None and number > self.maximum)
            or (self.exclusive_minimum is not None and number <= self.exclusive_minimum)
            or (self.exclusive_maximum is not None and number >= self.exclusive_maximum)
        ):
            raise _RefusedValueError
        return number

    def as_jinja(self) -> dict[str, Any]:
        """What the Jinja checks need of the declaration (macros/var_spec.sql)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "exclusive_minimum": self.exclusive_minimum,
            "exclusive_maximum": self.exclusive_maximum,
            "choices": list(self.choices),
            "none_words": list(self.none_words),
            "required": self.required,
            "accepted": self.accepted,
            "example": self.example,
        }


def _as_number(value: Any) -> float:
    """A number written out (as NUMBER_PATTERN), not a bool, finite; else _RefusedValueError."""
    if isinstance(value, bool):
        raise _RefusedValueError
    text = str(value)
    if not _NUMBER.match(text):
        raise _RefusedValueError
    number = float(text)
    if not math.isfinite(number) or abs(number) >= NUMBER_LIMIT:
        raise _RefusedValueError
    return number


#: Every dbt var of the project, in the order of dbt_project.yml.
VARS: tuple[VarSpec, ...] = (
    VarSpec(
        "customers_path",
        "path",
        "",
        "raw customers file, read by its extension; the columns are listed above",
        accepted_text="a path (text) to a .csv, .csv.gz or .parquet file, or empty for the demo data",
        example_text="data/customers.csv",
    ),
    VarSpec(
        "n_segments",
        "whole",
        3,
        "number of segments k; `auto`: the knee of the elbow curve",
        python=True,
        minimum=1,
        none_words=("auto",),
    ),
    VarSpec(
        "random_seed",
        "whole",
        42,
        "seed of the train/test split and of every fit; same data and seed, identical tables",
        python=True,
        minimum=0,
    ),
    VarSpec(
        "test_share",
        "number",
        0.2,
        "share of customers held out as the test split",
        exclusive_minimum=0,
        exclusive_maximum=1,
    ),
    VarSpec(
        "reducer",
        "choice",
        "pca",
        "between scaling and k-means: PCA, a Keras autoencoder, or none",
        python=True,
        choices=("pca", "autoencoder", "none"),
    ),
    VarSpec(
        "feature_transform",
        "choice",
        "zero_centred_log",
        "how the skewed amounts (features marked `transform: log`) are transformed before scaling: "
        "`zero_centred_log` is ln(x + shift) of a positive amount, the shift learned per feature on the train "
        "split (the 25th percentile of its positive values), a zero set to the mean of those logs and the "
        "feature scaled by its positive values' spread; `shifted_log` is ln(max(x, 0) + shift), the same shift; "
        "`log1p` is ln(1 + x); `none` leaves them as they are. What is learned is stored with the version "
        "(docs/quality.md compares them)",
        python=True,
        choices=("zero_centred_log", "shifted_log", "log1p", "none"),
    ),
    VarSpec(
        "n_components",
        "count_or_share",
        0.9,
        "reduced dimensions: a count, or the share of variance to keep (the autoencoder's bottleneck takes "
        "the number of principal components that keep it)",
        python=True,
        accepted_text="a whole number of components (>= 1) or a share of variance to keep between 0 and 1",
    ),
    VarSpec(
        "compare_reducers",
        "bool",
        True,
        "build `reducer_comparison`; `false` skips it, and a PCA build then never imports TensorFlow",
    ),
    VarSpec(
        "compare_feature_transforms",
        "bool",
        False,
        "build `feature_transform_comparison` (every `feature_transform` refitted and measured on the test "
        "split: four more fits, so off by default; `make quality` turns it on)",
    ),
    VarSpec(
        "export_path",
        "path",
        "",
        "folder of the Parquet exports (relative to where dbt runs); empty: `<warehouse>_exports` beside "
        "the published warehouse (`warehouse/segmentation_exports` by default), one folder per warehouse",
        accepted_text="the folder the BI marts are exported to (a path, for example exports), or empty for the "
        "folder beside the warehouse",
        example_text="exports",
    ),
    VarSpec(
        "published_builds_kept",
        "whole",
        2,
        "how many published builds are kept on disk: the current one and the ones before it that "
        "`make rollback` can go back to (1: the current build only, no rollback)",
        minimum=1,
    ),
    VarSpec(
        "refit",
        "bool",
        True,
        "fit and store a new model version; `false` scores with a stored version and fits nothing",
        python=True,
    ),
    VarSpec(
        "model_version",
        "whole",
        "",
        "with `refit: false`, the stored version to score with",
        python=True,
        minimum=1,
        none_words=("", "none", "latest"),
        accepted_text="a stored model version (a whole number of at least 1), or empty for the latest",
        example_text="2",
    ),
    VarSpec(
        "contamination",
        "number",
        0.01,
        "share of train customers flagged `is_atypical` (farthest from their centroid, relative to their "
        "segment's radius); the threshold is calibrated on the train split and stored with the version",
        python=True,
        exclusive_minimum=0,
        exclusive_maximum=0.5,
    ),
    VarSpec(
        "atypical_customers",
        "choice",
        "exclude",
        "what `fct_campaign_audience` does with atypical customers: `exclude` leaves them out of the "
        "audience (they stay in `dim_customers`), `include` keeps them, flagged",
        choices=("exclude", "include"),
    ),
    VarSpec(
        "drift_psi_threshold",
        "number",
        0.25,
        "a clustering feature whose population stability index against the version's train reference is "
        "above this is drifted (`feature_drift`), and the build warns: refit recommended",
        python=True,
        exclusive_minimum=0,
    ),
    VarSpec(
        "statistics_sample_size",
        "whole",
        200000,
        "customers (seeded sample) the marts measure medians, percentiles and correlations on (a median "
        "needs every value in memory); counts, ranges, means, spreads and shares are over every customer",
        minimum=1000,
    ),
    VarSpec(
        "elbow_max_k",
        "whole",
        10,
        "the elbow curve tries k = 1..max(elbow_max_k, n_segments)",
        python=True,
        minimum=2,
    ),
    VarSpec(
        "elbow_sample_size",
        "whole",
        20000,
        "train customers (seeded sample) the elbow curve is fitted on",
        python=True,
        minimum=10,
    ),
    VarSpec(
        "silhouette_sample_size",
        "whole",
        3000,
        "rows (seeded sample) each silhouette is computed on",
        python=True,
        minimum=10,
    ),
    VarSpec(
        "kmeans_sample_size",
        "whole",
        200000,
        "train customers (seeded sample) the fit reads: scaler, reducer, elbow curve and k-means are fitted on "
        "it (and `pca_components`, `reducer_comparison` measured on it); test customers the generalisation "
        "score's own k-means is fitted on; every customer is then scored in SQL",
        python=True,
        minimum=10,
    ),
    VarSpec(
        "autoencoder_hidden_layers",
        "whole_list",
        [16],
        "widths of the encoder's hidden layers; the decoder mirrors them",
        python=True,
        minimum=1,
        accepted_text="a list of layer widths, each a whole number of at least 1 (for example [32, 16])",
        example_text="[32, 16]",
    ),
    VarSpec(
        "autoencoder_epochs",
        "whole",
        60,
        "most training epochs (early stopping on a 10% validation slice usually ends sooner)",
        python=True,
        minimum=1,
    ),
    VarSpec("autoencoder_batch_size", "whole", 512, "rows per gradient step", python=True, minimum=1),
    VarSpec(
        "autoencoder_patience",
        "whole",
        5,
        "epochs without a better validation loss before training stops (best weights kept)",
        python=True,
        minimum=1,
    ),
    VarSpec(
        "autoencoder_sample_size",
        "whole",
        20000,
        "train customers (seeded sample) the autoencoder trains on",
        python=True,
        minimum=10,
    ),
    VarSpec(
        "max_clampable_frequency",
        "number",
        2.0,
        "frequencies above 1 up to this are clamped to 1 and flagged; above it the row is rejected",
        minimum=1,
    ),
    VarSpec(
        "min_tenure", "whole", 1, "lowest accepted `TENURE` (months of card service); at most `max_tenure`", minimum=1
    ),
    VarSpec("max_tenure", "whole", 12, "highest accepted `TENURE` (months)", minimum=1),
    VarSpec(
        "rejected_share_warn",
        "number",
        0.01,
        "share of rejected source rows above which the build warns",
        minimum=0,
        maximum=1,
    ),
    VarSpec(
        "rejected_share_error",
        "number",
        0.2,
        "share of rejected source rows above which the build fails",
        minimum=0,
        maximum=1,
    ),
)

VARS_BY_NAME: dict[str, VarSpec] = {spec.name: spec for spec in VARS}
#: The vars the Python models receive (config key segmentation_params), in VARS order.
PYTHON_VARS: tuple[str, ...] = tuple(spec.name for spec in VARS if spec.python)


def parse_var(name: str, value: Any) -> Any:
    """The value of var ``name`` parsed by its declaration (see :meth:`VarSpec.parse`)."""
    return VARS_BY_NAME[name].parse(value)


def var_default(name: str) -> Any:
    """The default of var ``name`` as its parsed Python value (``[16]`` -> ``(16,)``, ``""`` -> None)."""
    spec = VARS_BY_NAME[name]
    return spec.parse(spec.default)


# --- the generated files ---

REPO_ROOT = Path(__file__).resolve().parent.parent
GENERATOR_NAME = "`python -m segmentation.vars` (make generated)"
GENERATOR = f"{GENERATOR_NAME} from segmentation/vars.py"
_YML_BLOCK = "segmentation_params"


def _jinja_literal(value: Any) -> str:
    """A Python value as a Jinja literal (Jinja reads JSON strings and numbers as Python does)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_jinja_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(key)}: {_jinja_literal(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"no Jinja literal for {value!r}")


def render_var_spec_macro() -> str:
    """macros/var_spec.sql: the declarations as Jinja, for validate_vars()."""
    specs = ",\n".join(f"        {_jinja_literal(spec.as_jinja())}" for spec in VARS)
    return (
        f"{{#- Generated by {GENERATOR}: do not edit.\n"
        "    The declaration of every dbt var (dbt's Jinja cannot read the package), checked by\n"
        "    validate_vars() in macros/checks.sql. -#}\n"
        "\n"
        "{% macro var_spec() %}\n"
        "    {{ return([\n"
        f"{specs}\n"
        "    ]) }}\n"
        "{% endmacro %}\n"
        "\n"
        "\n"
        "{% macro var_number_pattern() %}\n"
        "    {#- A finite decimal number written out, nothing else (segmentation.vars.NUMBER_PATTERN). -#}\n"
        f"    {{{{ return({_jinja_literal(NUMBER_PATTERN)}) }}}}\n"
        "{% endmacro %}\n"
        "\n"
        "\n"
        "{% macro var_number_limit() %}\n"
        f"    {{{{ return({NUMBER_LIMIT!r}) }}}}\n"
        "{% endmacro %}\n"
    )


def _begin_marker(comment: str, what: str) -> str:
    return f"{comment} BEGIN {what}: generated by {GENERATOR}; do not edit"


def _end_marker(comment: str, what: str) -> str:
    return f"{comment} END {what}"


def _replace_block(text: str, path: str, begin: str, end: str, block: str) -> str:
    """``text`` with the lines between the ``begin`` and ``end`` lines replaced by ``block``."""
    lines = text.split("\n")
    if lines.count(begin) != 1 or lines.count(end) != 1 or lines.index(begin) > lines.index(end):
        raise ValueError(f"{path} must hold the lines {begin!r} and {end!r}, once each, in that order")
    start, stop = lines.index(begin), lines.index(end)
    return "\n".join([*lines[: start + 1], *block.rstrip("\n").split("\n"), *lines[stop:]])


def render_python_config(current: str) -> str:
    """python_models/ml/_ml__models.yml with its segmentation_params block regenerated."""
    block = "x-segmentation-config: &segmentation_config\n  segmentation_params:\n" + "".join(
        f"    {name}: \"{{{{ var('{name}') }}}}\"\n" for name in PYTHON_VARS
    )
    return _replace_block(current, ML_MODELS_YML, _begin_marker("#", _YML_BLOCK), _end_marker("#", _YML_BLOCK), block)


def _doc_default(spec: VarSpec) -> str:
    return "empty" if spec.default == "" else f"`{_render_yaml_value(spec.default)}`"


def render_parameters_table(current: str) -> str:
    """docs/parameters.md with its table of vars regenerated."""
    rows = "".join(f"| `{spec.name}` | {_doc_default(spec)} | {spec.accepted} | {spec.doc} |\n" for spec in VARS)
    table = "| var | default | accepted | meaning |\n| --- | --- | --- | --- |\n" + rows
    begin = f"<!-- BEGIN vars table: generated by {GENERATOR}; do not edit -->"
    return _replace_block(current, PARAMETERS_MD, begin, "<!-- END vars table -->", table)


def render_seeded_sample_spec(current: str) -> str:
    """macros/seeded_sample.sql with its ``seeded_sample_spec()`` macro regenerated."""
    block = (
        "{% macro seeded_sample_spec() %}\n"
        f"    {{{{ return({_jinja_literal(sampling.spec())}) }}}}\n"
        "{% endmacro %}\n"
    )
    source = "segmentation/sampling.py"
    begin = f"{{#- BEGIN seeded sample spec: generated by {GENERATOR_NAME} from {source}; do not edit -#}}"
    return _replace_block(current, SEEDED_SAMPLE_SQL, begin, "{#- END seeded sample spec -#}", block)


VAR_SPEC_SQL = "macros/var_spec.sql"
SEEDED_SAMPLE_SQL = "macros/seeded_sample.sql"
ML_MODELS_YML = "python_models/ml/_ml__models.yml"
PARAMETERS_MD = "docs/parameters.md"
#: Each generated file (relative to the repository root) and how its new text is made
#: from its current text.
GENERATED: dict[str, Callable[[str], str]] = {
    VAR_SPEC_SQL: lambda _current: render_var_spec_macro(),
    ML_MODELS_YML: render_python_config,
    PARAMETERS_MD: render_parameters_table,
    SEEDED_SAMPLE_SQL: render_seeded_sample_spec,
}


def stale_files(root: Path = REPO_ROOT) -> list[str]:
    """The generated files whose text is not what :data:`VARS` generates."""
    stale = []
    for path, render in GENERATED.items():
        file = root / path
        current = file.read_text() if file.exists() else ""
        if render(current) != current:
            stale.append(path)
    return stale


def write_generated(root: Path = REPO_ROOT) -> list[str]:
    """Regenerate the generated files; returns those that changed."""
    changed = []
    for path in stale_files(root):
        file = root / path
        file.write_text(GENERATED[path](file.read_text() if file.exists() else ""))
        changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="list the stale generated files and exit 1 if any")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"{path} is stale: regenerate it with `make generated` (python -m segmentation.vars)")
        return 1 if stale else 0
    for path in write_generated():
        print(f"regenerated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
