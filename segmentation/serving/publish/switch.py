"""The publish step and its undo: :func:`prepare` copies the workspace into a new build
folder, :func:`commit` switches readers to it in one atomic step, :func:`prune` keeps the
build before it, :func:`rollback` switches back to that one."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import duckdb

from segmentation.log import logger
from segmentation.serving.publish.area import (
    ENTRY_FILE,
    EXPORTS,
    PUBLISHED,
    SEMANTIC_MANIFEST_FILE,
    TEMPORARY_SUFFIX,
    BuildArea,
    PublishError,
)
from segmentation.serving.publish.faults import KILL_AT_ENV, fault_point
from segmentation.serving.publish.files import copy_database, fsync_directory, fsync_tree, replace_link
from segmentation.serving.publish.lock import acquire_build_lock
from segmentation.serving.publish.publish_log import (
    append_log,
    now_text,
    publish_entry,
    read_log,
    reconcile_log,
    write_publish_log_table,
)
from segmentation.serving.publish.readers import check_export_path, link_readers
from segmentation.serving.publish.space import is_out_of_space, no_space_message
from segmentation.serving.publish.workspace import remove_leftovers

# Fault injection for the tests (.faults): KILL_AT_ENV names the point of commit() to die at.
__all__ = ["KILL_AT_ENV", "commit", "prepare", "prune", "rollback"]


def prepare(area: BuildArea, build_id: str, export_path: str | os.PathLike) -> Path:
    """A new folder for build ``build_id`` holding a copy of the workspace's DuckDB file;
    the copy's path.

    The copy is of the file's bytes (and of its write-ahead log, if any), not of its
    tables one by one: every committed change of the build is in one or the other, and
    nothing writes to the workspace while the ``on-run-end`` hook runs, so the copy is the
    build's state, made at the speed of the disk instead of re-compressing every table
    (60 s at 10 million customers). Everything that could stop the publish is checked
    here, before anything is copied: after the switch in :func:`commit` nothing may fail."""
    _check_build_id(build_id)
    acquire_build_lock(area)
    check_export_path(area, export_path)
    remove_leftovers(area)
    if not area.workspace.is_file():
        raise PublishError(f"nothing to publish: the build workspace {area.workspace} does not exist")
    folder = area.builds / (build_id + TEMPORARY_SUFFIX)
    fault_point("before_copy")
    with _removed_on_failure(area, folder):
        folder.mkdir(parents=True)
        database = folder / area.published.name
        copy_database(area.workspace, database)
    return database


@contextlib.contextmanager
def _removed_on_failure(area: BuildArea, folder: Path):
    """Remove the unfinished build ``folder`` if the block fails; a full disk becomes a
    :class:`PublishError` that says what to free (readers keep the build they have)."""
    try:
        yield
    except BaseException as error:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(error, Exception) and is_out_of_space(error):
            raise PublishError(f"{no_space_message(area)} (while publishing: {error})") from error
        raise


def commit(area: BuildArea, build_id: str, export_path: str | os.PathLike, keep: int = 2) -> dict:
    """Publish the build :func:`prepare` copied: add its exports and ``publish_log``,
    then switch ``current`` to it in one atomic step; keep ``keep`` published builds
    (var ``published_builds_kept``)."""
    _check_build_id(build_id)
    acquire_build_lock(area)
    staging = area.builds / (build_id + TEMPORARY_SUFFIX)
    database = staging / area.published.name
    if not database.exists():
        raise PublishError(f"nothing to publish for build {build_id}: {database} does not exist")
    fault_point("before_exports")
    with _removed_on_failure(area, staging):
        exports = staging / EXPORTS
        if area.staged_exports.exists():
            os.replace(area.staged_exports, exports)
        else:
            exports.mkdir()
        previous = area.current_build_id()
        history = [row for row in read_log(area) if row.get("action") == "publish"]
        with duckdb.connect(str(database)) as connection:
            _drop_transient_tables(connection)
            entry = publish_entry(connection, build_id, previous, exports)
            write_publish_log_table(connection, [*history, entry])
        (staging / ENTRY_FILE).write_text(json.dumps(entry, indent=2) + "\n")
        if area.semantic_manifest.is_file():  # what MetricFlow reads for this build (.metrics)
            shutil.copyfile(area.semantic_manifest, staging / SEMANTIC_MANIFEST_FILE)
        fsync_tree(staging)
    fault_point("before_rename")
    final = area.build_folder(build_id)
    os.replace(staging, final)
    fault_point("before_switch")
    replace_link(area.current, Path(PUBLISHED) / build_id)
    fsync_directory(area.root)
    fsync_directory(area.builds)
    fault_point("after_switch")
    # Published. What follows only tidies up; a failure is a warning, never an error.
    try:
        append_log(area, entry)
        link_readers(area, export_path)
        prune(area, keep)
    except OSError as error:  # pragma: no cover - disk full or permissions, after the switch
        logger.warning(f"build {build_id} is published, but tidying up after it failed: {error}")
    logger.info(
        f"published build {build_id}: model version {entry['model_version']}, {entry['customers']:,} customers, "
        f"{len(entry['tables'])} tables, {len(entry['exports'])} exports -> {area.published}"
    )
    return entry


def prune(area: BuildArea, keep: int = 2) -> list[str]:
    """Delete published builds but the current one and the ``keep - 1`` published before it
    (the ones a rollback can go back to); the names of those deleted."""
    if keep < 1:
        raise PublishError(f"published_builds_kept must be at least 1 (the current build), got {keep}")
    current = area.current_build_id()
    keep_ids = [current] if current else []
    for row in reversed(read_log(area)):
        if len(keep_ids) >= keep:
            break
        for build in (row.get("build_id"), row.get("previous_build_id")):
            if build and build not in keep_ids and area.build_folder(build).is_dir() and len(keep_ids) < keep:
                keep_ids.append(build)
    removed = []
    for folder in sorted(area.builds.iterdir()):
        if folder.is_dir() and not folder.name.endswith(TEMPORARY_SUFFIX) and folder.name not in keep_ids:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


def rollback(area: BuildArea) -> dict:
    """Switch readers back to the build published before the current one."""
    acquire_build_lock(area)
    reconcile_log(area)
    current = area.current_build_id()
    if current is None:
        raise PublishError(f"nothing is published at {area.published} yet: run 'make run' (dbt build) first")
    entries = {row["build_id"]: row for row in read_log(area) if row.get("action") == "publish"}
    previous = (entries.get(current) or {}).get("previous_build_id")
    if not previous or not area.build_folder(previous).is_dir():
        raise PublishError(
            f"no earlier build is kept to roll back to (current build {current}: builds before it are kept "
            "as var published_builds_kept says, default 2, the current one and the one before it; "
            "a rollback goes back one build, to the build the current one replaced)"
        )
    replace_link(area.current, Path(PUBLISHED) / previous)
    fsync_directory(area.root)
    row = {"action": "rollback", "build_id": previous, "previous_build_id": current, "published_at": now_text()}
    append_log(area, row)
    return row


def _drop_transient_tables(connection) -> None:
    """dbt's own transient relations (``__dbt_tmp``, ``__dbt_backup``), which a build
    leaves only if it was stopped; readers never get them."""
    for name, kind in connection.execute(
        "select table_name, table_type from information_schema.tables"
        " where table_schema = 'main' and regexp_matches(table_name, '__dbt_(tmp|backup)')"
    ).fetchall():
        connection.execute(f'drop {"view" if kind == "VIEW" else "table"} "{name}"')


def _check_build_id(build_id: str) -> None:
    if not build_id or not all(c.isalnum() or c in "-_" for c in build_id):
        raise PublishError(f"a build id is letters, digits, '-' and '_' only, got {build_id!r}")
