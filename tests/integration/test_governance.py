"""Governance of the dbt project (docs/governance.md), read from the manifest of `dbt parse`:
groups with owners, access, no private model read across groups, a declared primary key
on every model, staging reading only the source, and the naming rule of each layer. A new
model that breaks a rule fails here, with the rule and the fix in the message."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import run_dbt

# Every test reads the manifest of a real `dbt parse`.
pytestmark = pytest.mark.dbt

PACKAGE = "customer_segmentation"
ACCESS = {"public", "protected", "private"}
#: Folder (under models/ or python_models/) -> the group its models belong to.
FOLDER_GROUPS = {
    "staging": "customer_data",
    "intermediate": "customer_data",
    "ml": "segmentation_ml",
    "marts": "marketing_analytics",
    "exploration": "marketing_analytics",
    "exports": "marketing_analytics",
    "semantic": "marketing_analytics",
}
#: Folder -> the pattern a model's name must match there.
NAMING_RULES = {
    "staging": r"stg_\w+",
    "intermediate": r"int_\w+",
    "ml": r"(segment|segmentation|customer|model|pca|reducer|feature)_\w+|int_\w+",
    "marts": r"(dim|fct|rpt)_\w+",
    "exploration": r"rpt_\w+",
    "exports": r"\w+_exports",
    "semantic": r"sem_\w+|metricflow_time_spine",
}
#: Tables readers query by name since before these rules: renaming one breaks every
#: dashboard and query that reads it, so each keeps its name (docs/governance.md).
KEPT_NAMES = {"rejected_customers": "intermediate"}
#: Keys checked by a test that runs, beside the declaration dbt infers from.
KEY_TESTS = {"column_checks", "unique_combination_of_columns", "unique"}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    workdir = tmp_path_factory.mktemp("governance")
    run = run_dbt(workdir, "parse")
    assert run.returncode == 0, (
        f"dbt parse failed (dbt refuses a private model read across groups):\n{run.output[-4000:]}"
    )
    return json.loads((workdir / "target" / "manifest.json").read_text())


def models(manifest: dict) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == PACKAGE
    ]


def folder(node: dict) -> str:
    return node["original_file_path"].split("/")[1]


def test_every_model_has_a_group_with_an_owner(manifest):
    groups = {group["name"]: group for group in manifest["groups"].values()}
    assert set(groups) == set(FOLDER_GROUPS.values()), sorted(groups)
    for group in groups.values():
        assert group["owner"].get("name") and group["owner"].get("email"), f"group {group['name']} needs an owner"
    problems = [
        f"{node['name']} ({node['original_file_path']}): group {node['group']!r}, "
        f"expected {FOLDER_GROUPS.get(folder(node))!r} (set +group for its folder in dbt_project.yml)"
        for node in models(manifest)
        if node["group"] != FOLDER_GROUPS.get(folder(node))
    ]
    assert not problems, "\n".join(problems)


def test_exposures_and_semantic_models_read_public_or_their_own_groups_models(manifest):
    nodes = {node["unique_id"]: node for node in models(manifest)}
    problems = [f"{node['name']}: access {node['access']!r}" for node in nodes.values() if node["access"] not in ACCESS]
    for exposure in manifest["exposures"].values():
        for parent in exposure["depends_on"]["nodes"]:
            if parent in nodes and nodes[parent]["access"] != "public":
                problems.append(f"exposure {exposure['name']} reads {nodes[parent]['name']}: make it access: public")
    for name in ("dim_customers", "dim_segments", "fct_campaign_audience", "rejected_customers", "bi_exports"):
        if nodes[f"model.{PACKAGE}.{name}"]["access"] != "public":
            problems.append(f"{name} is what BI and analysts read: make it access: public")
    assert not problems, "\n".join(problems)


def test_no_model_reads_a_private_model_of_another_group(manifest):
    nodes = {node["unique_id"]: node for node in models(manifest)}
    problems = [
        f"{child['name']} ({child['group']}) reads private {nodes[parent]['name']} ({nodes[parent]['group']})"
        for child in nodes.values()
        for parent in child["depends_on"]["nodes"]
        if parent in nodes and nodes[parent]["access"] == "private" and nodes[parent]["group"] != child["group"]
    ]
    assert not problems, "\n".join(problems)
    # the rule has something to hold: internals are private
    assert any(node["access"] == "private" for node in nodes.values())


def test_every_model_declares_its_primary_key_and_a_test_or_constraint_checks_it(manifest):
    """dbt infers each model's primary_key (the manifest's primary_key) from a primary_key
    constraint or a unique / unique_combination_of_columns test, enabled or disabled; it
    must be the key in meta.primary_key. A table's key is also checked on every build: by
    its primary_key constraint (contract), or by an enabled key test (column_checks with
    that key, or unique_combination_of_columns). A view has the key of the mart it selects."""
    tests: dict[str, list[dict]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("attached_node"):
            tests.setdefault(node["attached_node"], []).append(node)
    problems = []
    for node in models(manifest):
        key = node["config"].get("meta", {}).get("primary_key")
        if not key:
            problems.append(f"{node['name']}: no meta.primary_key")
            continue
        if sorted(node["primary_key"]) != sorted(key):
            problems.append(
                f"{node['name']}: dbt infers primary key {node['primary_key']}, meta says {key}: declare it with "
                "a primary_key constraint, or a unique_combination_of_columns test (disabled where column_checks "
                "checks it)"
            )
        if node["config"]["materialized"] == "view":
            continue
        constrained = any(
            c["type"] == "primary_key" and sorted(c["columns"]) == sorted(key) for c in node["constraints"]
        )
        constrained |= len(key) == 1 and any(
            c["type"] == "primary_key" for c in node["columns"].get(key[0], {}).get("constraints", [])
        )
        tested = any(
            (test.get("test_metadata") or {}).get("name") in KEY_TESTS
            and sorted(
                test["test_metadata"]["kwargs"].get("key")
                or test["test_metadata"]["kwargs"].get("combination_of_columns")
                or [test["test_metadata"]["kwargs"].get("column_name")]
            )
            == sorted(key)
            for test in tests.get(node["unique_id"], [])
        )
        if not (constrained and node["config"]["contract"]["enforced"]) and not tested:
            problems.append(f"{node['name']}: key {key} is neither an enforced primary_key constraint nor tested")
    assert not problems, "\n".join(problems)


def test_staging_reads_only_the_source(manifest):
    """Only staging models select from a source (raw.customers: the customers file or the
    demo data, through the customers_source macro); they read no other model."""
    problems = [
        f"{node['name']} (staging) reads {parent}: move it to intermediate"
        for node in models(manifest)
        if folder(node) == "staging"
        for parent in node["depends_on"]["nodes"]
        if parent.startswith("model.")
    ]
    problems += [
        f"{node['name']} ({folder(node)}) reads {parent}: read stg_customers instead (only staging reads sources)"
        for node in models(manifest)
        if folder(node) != "staging"
        for parent in node["depends_on"]["nodes"]
        if parent.startswith("source.")
    ]
    assert not problems, "\n".join(problems)
    stg = next(node for node in models(manifest) if node["name"] == "stg_customers")
    assert "macro.customer_segmentation.customers_source" in stg["depends_on"]["macros"]
    assert stg["depends_on"]["nodes"] == [f"source.{PACKAGE}.raw.customers"], stg["depends_on"]["nodes"]


def test_every_model_follows_its_layers_naming_rule(manifest):
    problems = []
    for node in models(manifest):
        name, where = node["name"], folder(node)
        if KEPT_NAMES.get(name) == where:
            continue
        rule = NAMING_RULES.get(where)
        if rule is None:
            problems.append(f"{name}: folder {where!r} has no naming rule (docs/governance.md)")
        elif not re.fullmatch(rule, name):
            problems.append(f"{name} in {where}/ must match {rule} (docs/governance.md, 'Naming')")
    assert not problems, "\n".join(problems)
