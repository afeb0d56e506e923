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

One module per concern: :mod:`.area` (the paths above, :class:`PublishError`),
:mod:`.lock` (the build lock), :mod:`.workspace` (the workspace before dbt opens it),
:mod:`.switch` (prepare, commit, prune, rollback), :mod:`.readers` (the links readers
open, the ``export_path`` check), :mod:`.publish_log` (the log file and table),
:mod:`.files` (atomic links, copies, fsync), :mod:`.plugin` (dbt-duckdb), :mod:`.cli`
(``python -m segmentation.serving.publish status|rollback``).
"""

from segmentation.serving.publish.area import DEFAULT_WAREHOUSE, BuildArea, PublishError, warehouse_path
from segmentation.serving.publish.lock import acquire_build_lock
from segmentation.serving.publish.publish_log import read_log
from segmentation.serving.publish.switch import commit, prepare, prune, rollback
from segmentation.serving.publish.workspace import prepare_workspace

__all__ = [
    "DEFAULT_WAREHOUSE",
    "BuildArea",
    "Plugin",
    "PublishError",
    "acquire_build_lock",
    "commit",
    "prepare",
    "prepare_workspace",
    "prune",
    "read_log",
    "rollback",
    "warehouse_path",
]


def __getattr__(name: str):
    # dbt-duckdb loads the plugin by this package's name (profiles.yml) and takes its
    # Plugin. Importing it imports dbt (about 1 s), which readers of the published
    # warehouse (query, report, exports) do not need: it is loaded on first use.
    if name == "Plugin":
        from segmentation.serving.publish.plugin import Plugin

        return Plugin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
