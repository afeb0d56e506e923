"""Write, audit, publish: readers see whole builds only, and never block one.

``dbt build`` works in a **workspace** that only the build opens. What readers open (the
file ``$DBT_DUCKDB_PATH``, default ``warehouse/segmentation.duckdb``, and the Parquet
folder of var ``export_path``) is the **published warehouse**, which changes only when a
build has passed every model and test, in one atomic step. For a published path ``P``::

    P                              -> P.builds/current/<name>        (a symbolic link)
    <export_path>                  -> P.builds/current/exports       (a symbolic link)
    P.builds/
      workspace/<name>             the build's DuckDB file (the model registry lives here)
      workspace/exports/           the Parquet files bi_exports wrote during the build
      published/<build_id>/        one published build: <name>, exports/, publish_entry.json
      current                      -> published/<build_id>            (the one atomic switch)
      publish_log.jsonl            every publish and rollback, one JSON object a line
      build.lock                   held by the dbt process using the workspace (its PID inside)

The publish step (``macros/publish.sql``, dbt's ``on-run-end``) runs only after a whole
``dbt build`` in which every node passed. :func:`prepare` makes a new folder and copies
the workspace's DuckDB file into it (its bytes: see :func:`prepare`), and
:func:`commit` finishes it: the file gets its ``publish_log`` table, the
exports move in beside it, the folder is renamed into place and ``current`` is replaced
by a new link with ``os.replace`` (atomic on POSIX). A reader that already opened the
published file keeps reading its build (DuckDB resolves the links when it opens a file,
and keeps the file's WAL beside the real file), new readers get the new build. A build
that fails, or is killed at any moment, leaves ``current`` as it was; its leftovers
(``published/*.tmp``) are removed by the next build. The build before ``current`` is
kept for :func:`rollback`; older ones are deleted.

The plugin (:class:`Plugin`, named in ``profiles.yml``) prepares the workspace before dbt
opens it, takes the build lock, and registers the two steps as SQL functions for the
``on-run-end`` macro.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import json
import os
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from segmentation.log import logger

DEFAULT_WAREHOUSE = Path("warehouse/segmentation.duckdb")


def warehouse_path() -> Path:
    """The published warehouse readers open, as profiles.yml resolves it."""
    return Path(os.environ.get("DBT_DUCKDB_PATH", DEFAULT_WAREHOUSE))


BUILDS_SUFFIX = ".builds"
WORKSPACE = "workspace"
PUBLISHED = "published"
CURRENT = "current"
EXPORTS = "exports"
LOG_FILE = "publish_log.jsonl"
ENTRY_FILE = "publish_entry.json"
LOCK_FILE = "build.lock"
TEMPORARY_SUFFIX = ".tmp"
# The DuckDB table every published build carries: its own publish and the earlier ones.
PUBLISH_LOG_TABLE = "publish_log"
# Fault injection for the tests: SIGKILL this process at the named point of commit().
KILL_AT_ENV = "SEGMENTATION_PUBLISH_KILL_AT"

# The lock file's descriptor, held (flock) for the life of the process; the kernel
# releases it when the process ends, however it ends.
_held_locks: dict[Path, int] = {}


class PublishError(RuntimeError):
    """The publish area cannot be used; the message says what to do."""


@dataclass(frozen=True)
class BuildArea:
    """The paths of one published warehouse ``published`` and of its builds."""

    published: Path

    @classmethod
    def of_published(cls, path: str | os.PathLike) -> BuildArea:
        return cls(Path(os.path.abspath(path)))

    @classmethod
    def of_workspace(cls, workspace: str | os.PathLike) -> BuildArea:
        """The area whose workspace file is ``workspace`` (the path dbt's profile opens)."""
        workspace = Path(os.path.abspath(workspace))
        root = workspace.parent.parent
        if workspace.parent.name != WORKSPACE or not root.name.endswith(BUILDS_SUFFIX):
            raise PublishError(
                f"the dbt profile's DuckDB path {workspace} is not a build workspace "
                f"(<warehouse>{BUILDS_SUFFIX}/{WORKSPACE}/<name>): keep profiles.yml's path as shipped and "
                "choose the published warehouse with DBT_DUCKDB_PATH."
            )
        return cls(root.parent / root.name.removesuffix(BUILDS_SUFFIX))

    @property
    def root(self) -> Path:
        return self.published.with_name(self.published.name + BUILDS_SUFFIX)

    @property
    def workspace(self) -> Path:
        return self.root / WORKSPACE / self.published.name

    @property
    def staged_exports(self) -> Path:
        return self.root / WORKSPACE / EXPORTS

    @property
    def builds(self) -> Path:
        return self.root / PUBLISHED

    @property
    def current(self) -> Path:
        return self.root / CURRENT

    @property
    def log(self) -> Path:
        return self.root / LOG_FILE

    @property
    def lock(self) -> Path:
        return self.root / LOCK_FILE

    def build_folder(self, build_id: str) -> Path:
        return self.builds / build_id

    def current_build_id(self) -> str | None:
        """The build readers get, or None before the first publish."""
        try:
            return Path(os.readlink(self.current)).name
        except FileNotFoundError:
            return None


# --- the workspace, before dbt opens it ------------------------------------------------


def acquire_build_lock(area: BuildArea) -> None:
    """Take the area's build lock for this process, or say who holds it."""
    if area.lock in _held_locks:
        return
    area.root.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(area.lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        holder = os.pread(descriptor, 200, 0).decode(errors="replace").strip() or "unknown"
        os.close(descriptor)
        if error.errno not in (errno.EACCES, errno.EAGAIN, errno.EWOULDBLOCK):
            raise
        raise PublishError(
            f"another dbt command is using the build workspace of {area.published} ({holder}). "
            "Wait for it to finish (or stop it), then run this command again. "
            "Readers of the published warehouse are never blocked by it."
        ) from None
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"PID {os.getpid()}, since {_now():%Y-%m-%d %H:%M:%S} UTC".encode(), 0)
    _held_locks[area.lock] = descriptor


def prepare_workspace(area: BuildArea) -> None:
    """Make the workspace ready for dbt: folders, the lock, a legacy file moved in,
    leftovers of killed builds removed."""
    acquire_build_lock(area)
    area.workspace.parent.mkdir(parents=True, exist_ok=True)
    area.builds.mkdir(parents=True, exist_ok=True)
    if area.published.is_file() and not area.published.is_symlink() and not area.workspace.exists():
        # A warehouse from before publishing: its tables (the model registry among them)
        # become the workspace; the file itself stays where it is until the first publish
        # replaces it with the link.
        logger.info(f"moving the warehouse {area.published} into the build workspace {area.workspace}")
        _copy_database(area.published, area.workspace)
    remove_leftovers(area)
    reconcile_log(area)
    link_readers(area)


def remove_leftovers(area: BuildArea) -> list[Path]:
    """Delete what killed builds left: unfinished build folders and temporary links."""
    removed = []
    candidates = sorted(area.builds.glob(f"*{TEMPORARY_SUFFIX}")) + sorted(area.root.glob(f".*{TEMPORARY_SUFFIX}"))
    candidates += sorted(area.published.parent.glob(f".{area.published.name}.*{TEMPORARY_SUFFIX}"))
    for path in candidates:
        if path.is_symlink() or path.is_file():
            path.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    if removed:
        names = ", ".join(path.name for path in removed)
        logger.info(f"removed {len(removed)} leftover(s) of an unfinished publish: {names}")
    return removed


# --- the publish step --------------------------------------------------------------------


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
    folder.mkdir(parents=True)
    database = folder / area.published.name
    _copy_database(area.workspace, database)
    return database


def commit(area: BuildArea, build_id: str, export_path: str | os.PathLike) -> dict:
    """Publish the build :func:`prepare` copied: add its exports and ``publish_log``,
    then switch ``current`` to it in one atomic step."""
    _check_build_id(build_id)
    acquire_build_lock(area)
    staging = area.builds / (build_id + TEMPORARY_SUFFIX)
    database = staging / area.published.name
    if not database.exists():
        raise PublishError(f"nothing to publish for build {build_id}: {database} does not exist")
    _kill_if_asked("before_exports")
    exports = staging / EXPORTS
    if area.staged_exports.exists():
        os.replace(area.staged_exports, exports)
    else:
        exports.mkdir()
    previous = area.current_build_id()
    history = [row for row in read_log(area) if row.get("action") == "publish"]
    with duckdb.connect(str(database)) as connection:
        _drop_transient_tables(connection)
        entry = _entry(connection, build_id, previous, exports)
        _write_publish_log(connection, [*history, entry])
    (staging / ENTRY_FILE).write_text(json.dumps(entry, indent=2) + "\n")
    _fsync_tree(staging)
    _kill_if_asked("before_rename")
    final = area.build_folder(build_id)
    os.replace(staging, final)
    _kill_if_asked("before_switch")
    _replace_link(area.current, Path(PUBLISHED) / build_id)
    _fsync_directory(area.root)
    _fsync_directory(area.builds)
    _kill_if_asked("after_switch")
    # Published. What follows only tidies up; a failure is a warning, never an error.
    try:
        _append_log(area, entry)
        link_readers(area, export_path)
        prune(area)
    except OSError as error:  # pragma: no cover - disk full or permissions, after the switch
        logger.warning(f"build {build_id} is published, but tidying up after it failed: {error}")
    logger.info(
        f"published build {build_id}: model version {entry['model_version']}, {entry['customers']:,} customers, "
        f"{len(entry['tables'])} tables, {len(entry['exports'])} exports -> {area.published}"
    )
    return entry


def link_readers(area: BuildArea, export_path: str | os.PathLike | None = None) -> None:
    """The stable paths readers open: the published file and the exports folder, both
    links through ``current`` (made once; switching ``current`` moves both)."""
    if area.current_build_id() is None:
        return
    _ensure_link(area.published, Path(area.root.name) / CURRENT / area.published.name)
    if export_path is not None and str(export_path):
        exports = Path(os.path.abspath(export_path))
        # Between real folders: the kernel follows '..' through links in the real tree.
        target = os.path.relpath(
            Path(os.path.realpath(area.root)) / CURRENT / EXPORTS, os.path.realpath(exports.parent)
        )
        _ensure_link(exports, Path(target))


def check_export_path(area: BuildArea, export_path: str | os.PathLike) -> None:
    """Refuse an ``export_path`` the exports link cannot take, saying what to do."""
    exports = Path(os.path.abspath(export_path))
    root = Path(os.path.realpath(area.root))

    def refuse(why: str) -> None:
        raise PublishError(
            f"export_path {export_path} {why}; nothing was published. Choose another folder with "
            "--vars '{export_path: ...}' (default exports)."
        )

    if exports.is_symlink():
        pointed = Path(os.path.normpath(os.path.join(os.path.realpath(exports.parent), os.readlink(exports))))
        if pointed != root / CURRENT / EXPORTS:
            refuse(f"is a link to {os.readlink(exports)}, not to this warehouse's published exports")
        return
    real = Path(os.path.realpath(exports))
    if real == root or root in real.parents or real == Path(os.path.realpath(area.published)):
        refuse(f"is inside the warehouse's build folder {area.root}")
    if exports.is_dir():
        others = [path.name for path in exports.iterdir() if not path.name.endswith((".parquet", TEMPORARY_SUFFIX))]
        if others:
            refuse(
                f"is a folder with files other than Parquet exports ({', '.join(sorted(others)[:5])}) and the "
                "published exports are a link to the current build's folder: move those files away, or"
            )
    elif exports.exists():
        refuse("is a file, not a folder")


def prune(area: BuildArea, keep: int = 2) -> list[str]:
    """Delete published builds other than the current one and the one before it."""
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
            f"no earlier build is kept to roll back to (current build {current}; only the build before "
            "the current one is kept, and a rollback uses it up)"
        )
    _replace_link(area.current, Path(PUBLISHED) / previous)
    _fsync_directory(area.root)
    row = {"action": "rollback", "build_id": previous, "previous_build_id": current, "published_at": _now_text()}
    _append_log(area, row)
    return row


# --- the log ----------------------------------------------------------------------------


def read_log(area: BuildArea) -> list[dict]:
    """Every publish and rollback, oldest first (a torn last line is skipped)."""
    if not area.log.exists():
        return []
    rows = []
    for line in area.log.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            rows.append(json.loads(line))
    return rows


def reconcile_log(area: BuildArea) -> None:
    """Log the current build if a kill came between its switch and its log line."""
    current = area.current_build_id()
    entry_file = area.build_folder(current) / ENTRY_FILE if current else None
    if entry_file is None or not entry_file.exists():
        return
    if not any(row.get("build_id") == current and row.get("action") == "publish" for row in read_log(area)):
        _append_log(area, json.loads(entry_file.read_text()))


def _append_log(area: BuildArea, row: dict) -> None:
    with open(area.log, "a") as file:
        file.write(json.dumps(row) + "\n")
        file.flush()
        os.fsync(file.fileno())


def _drop_transient_tables(connection) -> None:
    """dbt's own transient relations (``__dbt_tmp``, ``__dbt_backup``), which a build
    leaves only if it was stopped; readers never get them."""
    for name, kind in connection.execute(
        "select table_name, table_type from information_schema.tables"
        " where table_schema = 'main' and regexp_matches(table_name, '__dbt_(tmp|backup)')"
    ).fetchall():
        connection.execute(f'drop {"view" if kind == "VIEW" else "table"} "{name}"')


def _entry(connection, build_id: str, previous: str | None, exports: Path) -> dict:
    """The log entry of the build whose new file ``connection`` has open."""
    tables = {
        name: connection.execute(f'select count(*) from "{name}"').fetchone()[0]
        for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'main' order by 1"
        ).fetchall()
    }
    model_version = customers = None
    if "dim_customers" in tables:
        model_version, customers = connection.execute(
            "select max(model_version), count(*) from dim_customers"
        ).fetchone()
    return {
        "action": "publish",
        "build_id": build_id,
        "published_at": _now_text(),
        "model_version": model_version,
        "customers": customers or 0,
        "previous_build_id": previous,
        "tables": tables,
        "exports": sorted(path.name for path in exports.glob("*.parquet")),
    }


def _write_publish_log(connection, rows: list[dict]) -> None:
    """The ``publish_log`` table of a new published file: every publish up to this one."""
    connection.execute(
        f"""
        create or replace table {PUBLISH_LOG_TABLE} (
            build_id varchar primary key,
            published_at timestamp not null,
            model_version integer,
            customers bigint not null,
            previous_build_id varchar,
            tables_published varchar not null,
            exports_published varchar not null
        )
        """
    )
    seen = set()
    for row in rows:
        if row["build_id"] in seen:
            continue
        seen.add(row["build_id"])
        connection.execute(
            f"insert into {PUBLISH_LOG_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
            [
                row["build_id"],
                row["published_at"],
                row.get("model_version"),
                row.get("customers") or 0,
                row.get("previous_build_id"),
                json.dumps(row.get("tables", {})),
                json.dumps(row.get("exports", [])),
            ],
        )
    connection.execute("checkpoint")


# --- files --------------------------------------------------------------------------------


def _replace_link(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` in one atomic step (a new link renamed over it)."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}{TEMPORARY_SUFFIX}")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    os.symlink(target, temporary)
    os.replace(temporary, link)


def _ensure_link(link: Path, target: Path) -> None:
    """Make ``link`` a link to ``target`` unless it is one; a plain file or folder of an
    earlier layout is replaced (a folder only if it holds nothing but Parquet exports)."""
    if link.is_symlink():
        if Path(os.readlink(link)) == target:
            return
    elif link.is_dir():  # exports of the earlier layout (check_export_path allowed only those)
        legacy = link.with_name(f".{link.name}.legacy{TEMPORARY_SUFFIX}")
        os.replace(link, legacy)
        _replace_link(link, target)
        shutil.rmtree(legacy, ignore_errors=True)
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    _replace_link(link, target)


def _copy_database(source: Path, destination: Path) -> None:
    temporary = destination.with_name(destination.name + TEMPORARY_SUFFIX)
    shutil.copy2(source, temporary)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copy2(wal, temporary.with_name(temporary.name + ".wal"))
        os.replace(temporary.with_name(temporary.name + ".wal"), destination.with_name(destination.name + ".wal"))
    os.replace(temporary, destination)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
    _fsync_directory(folder)


def _fsync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _check_build_id(build_id: str) -> None:
    if not build_id or not all(c.isalnum() or c in "-_" for c in build_id):
        raise PublishError(f"a build id is letters, digits, '-' and '_' only, got {build_id!r}")


def _kill_if_asked(point: str) -> None:
    if os.environ.get(KILL_AT_ENV) == point:
        os.kill(os.getpid(), 9)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _now_text() -> str:
    return _now().isoformat(timespec="microseconds")


# --- dbt-duckdb plugin ----------------------------------------------------------------------

try:
    from dbt.adapters.duckdb.plugins import BasePlugin
except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
    BasePlugin = object


class Plugin(BasePlugin):
    """dbt-duckdb plugin (``profiles.yml``: ``plugins: [{module: segmentation.serving.publish}]``).

    Before dbt opens the workspace: folders, the build lock, leftovers. On the connection:
    the SQL functions ``segmentation_publish_prepare(build_id, export_path)`` and
    ``segmentation_publish_commit(build_id, export_path)`` that ``macros/publish.sql``
    calls from ``on-run-end``.
    """

    def update_connection_config(self, creds, config) -> None:
        self.area = BuildArea.of_workspace(creds.path)
        prepare_workspace(self.area)

    def configure_connection(self, conn) -> None:
        self._register(conn)

    def configure_cursor(self, cursor) -> None:
        self._register(cursor)

    def _register(self, connection) -> None:
        area = self.area

        def publish_prepare(build_id: str, export_path: str) -> str:
            return str(prepare(area, build_id, export_path))

        def publish_commit(build_id: str, export_path: str) -> str:
            return json.dumps(commit(area, build_id, export_path))

        for name, function, parameters in (
            ("segmentation_publish_prepare", publish_prepare, [duckdb.sqltype("varchar")] * 2),
            ("segmentation_publish_commit", publish_commit, [duckdb.sqltype("varchar")] * 2),
        ):
            with contextlib.suppress(duckdb.CatalogException, duckdb.NotImplementedException):
                connection.create_function(name, function, parameters, duckdb.sqltype("varchar"), side_effects=True)


# --- command line ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The published warehouse: its log, and rollback.")
    parser.add_argument("command", choices=["status", "rollback"])
    parser.add_argument("--database", type=Path, help="published DuckDB file (default: $DBT_DUCKDB_PATH or warehouse/)")
    args = parser.parse_args(argv)
    area = BuildArea.of_published(args.database or warehouse_path())
    try:
        if args.command == "rollback":
            row = rollback(area)
            print(f"rolled back: readers now get build {row['build_id']} (was {row['previous_build_id']})")
        else:
            print(f"published warehouse: {area.published}")
            print(f"current build: {area.current_build_id() or 'none yet'}")
            for row in read_log(area)[-10:]:
                print(json.dumps({k: v for k, v in row.items() if k != "tables"}))
    except PublishError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
