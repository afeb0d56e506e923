"""MetricFlow reads what readers read: the published build, read-only, with that build's own
semantic manifest.

``mf`` (and any tool driving MetricFlow through the dbt profile) connects through the
profile's ``dev`` output, whose path is the build workspace. In a process that has loaded
MetricFlow, the plugin (:mod:`.plugin`) opens instead the file of the build readers get
(resolved through ``current`` once, so data and definitions are of one build), read-only:
no build lock is taken, so a query never waits for a build nor delays one, and a failed
or running build is never seen. MetricFlow reads its definitions from
``<project>/target/semantic_manifest.json``, which is whatever the last dbt command wrote,
maybe for another warehouse; in such a process it reads the published build's copy
instead (:func:`snapshot_semantic_manifest` takes it at the start of every build,
:func:`~.switch.commit` publishes it with the build).

``SEGMENTATION_READ_PUBLISHED=1`` asks the same of any other process using the profile
(``0`` turns it off for MetricFlow).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from segmentation.serving.publish.area import SEMANTIC_MANIFEST_FILE, BuildArea, PublishError

READ_PUBLISHED_ENV = "SEGMENTATION_READ_PUBLISHED"
#: What MetricFlow's command line (dbt-metricflow) reads the definitions with.
_MF_ACCESSOR = "dbt_metricflow.cli.dbt_connectors.dbt_config_accessor"


def reads_published_warehouse() -> bool:
    """Whether this process is a reader of the published warehouse (MetricFlow, or asked
    by ``SEGMENTATION_READ_PUBLISHED``) rather than a build."""
    asked = os.environ.get(READ_PUBLISHED_ENV, "").strip()
    if asked:
        return asked not in ("0", "false", "no")
    # MetricFlow's engine, or its command line (dbt itself imports the top package dbt_metricflow).
    return "metricflow" in sys.modules or "dbt_metricflow.cli" in sys.modules


def open_published_read_only(area: BuildArea, creds, config: dict) -> Path:
    """Point the profile's connection at the published build's file, read-only; that file."""
    build_id = area.current_build_id()
    if build_id is None:
        raise PublishError(
            f"nothing is published at {area.published} yet, and metrics read the published warehouse: "
            "run 'make run' (dbt build) first"
        )
    database = area.build_folder(build_id) / area.published.name
    creds.path = str(database)
    config["access_mode"] = "READ_ONLY"
    _read_definitions_of(area.build_folder(build_id) / SEMANTIC_MANIFEST_FILE)
    return database


def _read_definitions_of(manifest: Path) -> None:
    """Make MetricFlow's command line read ``manifest`` (when it is loaded)."""
    accessor = sys.modules.get(_MF_ACCESSOR)
    artifacts = getattr(accessor, "dbtArtifacts", None)
    if artifacts is None:
        return

    def published_semantic_manifest(project_root):
        from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest

        if not manifest.is_file():
            raise PublishError(
                f"the published build has no semantic manifest ({manifest} is missing: it was published before "
                "metrics read the published warehouse); run 'make run' (dbt build) once to publish one"
            )
        return parse_manifest_from_dbt_generated_manifest(manifest_json_string=manifest.read_text())

    artifacts.build_semantic_manifest_from_dbt_project_root = staticmethod(published_semantic_manifest)


def snapshot_semantic_manifest(area: BuildArea, target: Path) -> Path | None:
    """Copy this build's ``semantic_manifest.json`` (written by its parse into ``target``)
    into the workspace, for the publish; None when the project has none.

    Refuses a manifest made for another warehouse: another dbt command wrote into the same
    target folder since this one parsed."""
    source = target / SEMANTIC_MANIFEST_FILE
    if not source.is_file():
        area.semantic_manifest.unlink(missing_ok=True)
        return None
    databases = {
        model.get("node_relation", {}).get("database")
        for model in json.loads(source.read_text()).get("semantic_models", [])
    }
    catalog = area.workspace.stem
    if databases - {catalog}:
        raise PublishError(
            f"{source} was written for another warehouse (database {sorted(databases - {catalog})}, this build's "
            f"is {catalog!r}): another dbt command uses the same target folder. Give each warehouse its own, "
            "DBT_TARGET_PATH and DBT_LOG_PATH (make run does: <warehouse>.builds/target), and run this build again."
        )
    snapshot = area.semantic_manifest
    temporary = snapshot.with_name(snapshot.name + ".part")
    shutil.copyfile(source, temporary)
    os.replace(temporary, snapshot)
    return snapshot
