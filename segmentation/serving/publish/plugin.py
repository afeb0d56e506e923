"""The dbt-duckdb plugin: prepares the workspace before dbt opens it and gives the
``on-run-end`` macro (``macros/publish.sql``) its two SQL functions."""

from __future__ import annotations

import contextlib
import functools
import json

import duckdb

from segmentation.serving.publish.area import BuildArea, PublishError
from segmentation.serving.publish.build_process import tune_for_build
from segmentation.serving.publish.dbt_target import check_parse_of_this_checkout, dbt_project_folder, dbt_target_folder
from segmentation.serving.publish.metrics import (
    open_published_read_only,
    reads_published_warehouse,
    snapshot_semantic_manifest,
)
from segmentation.serving.publish.publish_log import published_lineage
from segmentation.serving.publish.readers import check_export_path
from segmentation.serving.publish.space import is_out_of_space, no_space_message
from segmentation.serving.publish.switch import commit, prepare
from segmentation.serving.publish.workspace import prepare_workspace

try:
    from dbt.adapters.duckdb.plugins import BasePlugin
except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
    BasePlugin = object


class Plugin(BasePlugin):
    """dbt-duckdb plugin (``profiles.yml``: ``plugins: [{module: segmentation.serving.publish}]``).

    Before dbt opens the workspace: the process's garbage collection tuned (.build_process),
    folders, the build lock, leftovers. On the connection:
    the SQL functions ``segmentation_publish_check(export_path)`` (what could refuse the
    publish, checked by ``on-run-start`` before the first model: macros/checks.sql),
    ``segmentation_published_lineage()`` (the published builds whose history
    ``customer_segment_history`` keeps, comma-separated), ``segmentation_publish_prepare(build_id, export_path)`` and
    ``segmentation_publish_commit(build_id, export_path, builds_kept)`` that ``macros/publish.sql``
    calls from ``on-run-end``.
    """

    def update_connection_config(self, creds, config) -> None:
        tune_for_build()
        self.area = BuildArea.of_workspace(creds.path)
        # MetricFlow (mf) reads the published build, read-only, and takes no lock (.metrics).
        self.reader = reads_published_warehouse()
        if self.reader:
            open_published_read_only(self.area, creds, config)
        else:
            prepare_workspace(self.area)
            check_parse_of_this_checkout(dbt_target_folder(), dbt_project_folder())

    def configure_connection(self, conn) -> None:
        self._register(conn)

    def configure_cursor(self, cursor) -> None:
        self._register(cursor)

    def _register(self, connection) -> None:
        area = self.area
        if self.reader:
            return

        def publish_check(export_path: str) -> str:
            check_export_path(area, export_path)
            snapshot_semantic_manifest(area, dbt_target_folder())
            return str(area.exports_folder(export_path))

        def no_space_message_() -> str:
            return no_space_message(area)

        def published_lineage_() -> str:
            return ",".join(published_lineage(area))

        def publish_prepare(build_id: str, export_path: str) -> str:
            return str(prepare(area, build_id, export_path))

        def publish_commit(build_id: str, export_path: str, builds_kept: str) -> str:
            return json.dumps(commit(area, build_id, export_path, keep=int(float(builds_kept))))

        for name, function, parameters in (
            ("segmentation_publish_check", publish_check, [duckdb.sqltype("varchar")]),
            ("segmentation_no_space_message", no_space_message_, []),
            ("segmentation_published_lineage", published_lineage_, []),
            ("segmentation_publish_prepare", publish_prepare, [duckdb.sqltype("varchar")] * 2),
            ("segmentation_publish_commit", publish_commit, [duckdb.sqltype("varchar")] * 3),
        ):
            with contextlib.suppress(duckdb.CatalogException, duckdb.NotImplementedException):
                connection.create_function(
                    name,
                    _saying_when_out_of_space(area, function),
                    parameters,
                    duckdb.sqltype("varchar"),
                    side_effects=True,
                )


def _saying_when_out_of_space(area: BuildArea, function):
    """``function``, whose full-disk errors say where and how much to free (.space)."""

    @functools.wraps(function)
    def wrapped(*arguments):
        try:
            return function(*arguments)
        except PublishError:
            raise
        except Exception as error:
            if is_out_of_space(error):
                raise PublishError(f"{no_space_message(area)} ({error})") from error
            raise

    return wrapped
