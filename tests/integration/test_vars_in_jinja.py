"""The Jinja checks of validate_vars() accept exactly what the Python parsers accept: one
dbt run-operation runs every var's check on many candidate values (the declarations and
the generated files: tests/unit/test_vars.py)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from segmentation.vars import (
    VARS,
    VARS_BY_NAME,
    ParameterError,
)
from tests.conftest import run_dbt

HOW_TO_REGENERATE = "regenerate it with `make generated` (python -m segmentation.vars)"


#: Values tried on every var: numbers around every bound, words, junk, SQL, other types.
CANDIDATES = [
    *[-1, 0, 0.5, 1, 1.5, 2, 9, 10, 11, 12, 0.0, 1.0, 2.0, 1e-05, 1e299],
    *["", " ", "0", "1", " 4 ", "2.0", "1e1", "5\n", "1_000", "0x10", "-0", "+3", ".5", "1.", "3,5"],
    *["nan", "inf", "-inf", "1e999", "abc", "1'; drop table x --", "0.5' or '1'='1"],
    *["auto", " AUTO ", "latest", "none", "None", "pca", " Autoencoder ", "umap", "NONE"],
    *[True, False, "true", "false", "TRUE", " true", "yes", None],
    *[[16], [8, 4], [], [True], ["8", " 4"], [16, "8; drop table x"], "[32, 16]", "[]", "16,8", {"a": 1}],
    *["exports", "/tmp/x'; --.csv", "exclude", " Include "],
]


def python_refuses(name: str, value) -> bool:
    try:
        VARS_BY_NAME[name].parse(value)
    except ParameterError:
        return True
    return False


@pytest.mark.dbt
def test_jinja_checks_accept_exactly_what_the_python_parsers_accept(tmp_path):
    """One dbt run-operation runs validate_vars()'s per-var check on every candidate."""
    arguments = json.dumps({"values": {spec.name: CANDIDATES for spec in VARS}})
    # What the macro gets: dbt reads --args (as --vars) as YAML 1.1, where 1e-05 is text.
    candidates = yaml.safe_load(arguments)["values"]
    run = run_dbt(tmp_path, "run-operation", "print_refused_var_values", "--args", arguments)
    assert run.returncode == 0, run.output[-3000:]
    found = re.search(r"refused var values: (\{.*\})", run.output)
    assert found, run.output[-3000:]
    # Compared as JSON text: True == 1 and 0.0 == 0 in Python, not here.
    refused_by_jinja = {
        name: [json.dumps(value) for value in refused] for name, refused in json.loads(found.group(1)).items()
    }
    refused_by_python = {
        spec.name: [json.dumps(value) for value in candidates[spec.name] if python_refuses(spec.name, value)]
        for spec in VARS
    }
    differing = {
        name: {
            "refused by Jinja only": [
                value for value in refused_by_jinja[name] if value not in refused_by_python[name]
            ],
            "refused by Python only": [
                value for value in refused_by_python[name] if value not in refused_by_jinja[name]
            ],
        }
        for name in refused_by_python
        if refused_by_jinja[name] != refused_by_python[name]
    }
    assert not differing, f"macros/checks.sql (_var_is_valid) and segmentation/vars.py disagree: {differing}"
    # Not vacuous: every var refuses some candidates and accepts others.
    assert all(0 < len(refused) < len(CANDIDATES) for refused in refused_by_python.values())
