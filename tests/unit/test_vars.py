"""The dbt vars are declared once (segmentation/vars.py): everything else agrees with it.

The generated files are up to date, the defaults of dbt_project.yml and of
SegmentationParams are the declared ones, the Python models get exactly the python vars,
and the Jinja checks of validate_vars() accept exactly the values the Python parsers do.
"""

from __future__ import annotations

import shutil

import pytest
import yaml

from segmentation.params import SegmentationParams
from segmentation.vars import (
    GENERATED,
    ML_MODELS_YML,
    PYTHON_VARS,
    VAR_SPEC_SQL,
    VARS,
    VARS_BY_NAME,
    ParameterError,
    stale_files,
    var_default,
    write_generated,
)
from tests.conftest import REPO_ROOT

HOW_TO_REGENERATE = "regenerate it with `make generated` (python -m segmentation.vars)"


@pytest.mark.parametrize("path", sorted(GENERATED))
def test_generated_file_is_up_to_date(path):
    current = (REPO_ROOT / path).read_text()
    assert GENERATED[path](current) == current, f"{path} is stale: {HOW_TO_REGENERATE}"


def test_a_stale_generated_file_is_found_and_regenerated(tmp_path):
    for path in GENERATED:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / path, tmp_path / path)
    assert stale_files(tmp_path) == []
    macro, config = tmp_path / VAR_SPEC_SQL, tmp_path / ML_MODELS_YML
    macro.write_text(macro.read_text().replace('"minimum": 2', '"minimum": 3'))
    config.write_text(config.read_text().replace("    random_seed: \"{{ var('random_seed') }}\"\n", ""))
    assert stale_files(tmp_path) == sorted([VAR_SPEC_SQL, ML_MODELS_YML])
    assert sorted(write_generated(tmp_path)) == sorted([VAR_SPEC_SQL, ML_MODELS_YML])
    assert stale_files(tmp_path) == []
    assert (tmp_path / VAR_SPEC_SQL).read_text() == (REPO_ROOT / VAR_SPEC_SQL).read_text()


def test_generation_needs_its_markers():
    with pytest.raises(ValueError, match=r"python_models/ml/_ml__models.yml must hold the lines '# BEGIN"):
        GENERATED[ML_MODELS_YML]("version: 2\n")


def test_dbt_project_defaults_are_the_declared_ones():
    project = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]
    declared = {spec.name: spec.default for spec in VARS}
    differing = {
        name: {
            "dbt_project.yml": project.get(name, "(missing)"),
            "segmentation/vars.py": declared.get(name, "(missing)"),
        }
        for name in {*project, *declared}
        if project.get(name, "(missing)") != declared.get(name, "(missing)")
        or type(project.get(name)) is not type(declared.get(name))
    }
    assert not differing, f"the defaults of dbt_project.yml's vars and segmentation/vars.py differ: {differing}"
    assert list(project) == list(declared), "dbt_project.yml lists the vars in the order of segmentation/vars.py"


def test_every_default_is_accepted_and_is_the_python_default():
    defaults = SegmentationParams()
    for spec in VARS:
        parsed = spec.parse(spec.default)
        if spec.python:
            assert getattr(defaults, spec.name) == parsed, spec.name
    assert var_default("autoencoder_hidden_layers") == (16,)
    assert var_default("model_version") is None


def test_the_python_models_get_exactly_the_python_vars():
    block = yaml.safe_load((REPO_ROOT / ML_MODELS_YML).read_text())["x-segmentation-config"]["segmentation_params"]
    assert list(block) == list(PYTHON_VARS)
    assert all(value == f"{{{{ var('{name}') }}}}" for name, value in block.items())
    # The fields of SegmentationParams are the python vars; the SQL-only vars are not passed.
    assert set(block) == set(SegmentationParams.__dataclass_fields__)
    assert "test_share" not in block and "customers_path" not in block


def test_a_refused_value_names_the_var_the_value_what_is_accepted_and_how_to_set_it():
    with pytest.raises(ParameterError) as error:
        VARS_BY_NAME["test_share"].parse("1")
    assert str(error.value) == (
        "var test_share must be a number between 0 and 1 (exclusive), got '1'. "
        "Set it with: dbt build --vars '{test_share: 0.2}' (see docs/parameters.md)."
    )
