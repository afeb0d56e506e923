"""The dbt-duckdb plugin: prepares the workspace before dbt opens it and gives the
``on-run-end`` macro (``macros/publish.sql``) its two SQL functions."""

from __future__ import annotations

import contextlib
import json

import duckdb

from segmentation.serving.publish.area import BuildArea
from segmentation.serving.publish.readers import check_export_path
from segmentation.serving.publish.switch import commit, prepare
from segmentation.serving.publish.workspace import prepare_workspace

try:
    from dbt.adapters.duckdb.plugins import BasePlugin
except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
    BasePlugin = object


class Plugin(BasePlugin):
    """dbt-duckdb plugin (``profiles.yml``: ``plugins: [{module: segmentation.serving.publish}]``).

    Before dbt opens the workspace: folders, the build lock, leftovers. On the connection:
    the SQL functions ``segmentation_publish_check(export_path)`` (what could refuse the
    publish, checked by ``on-run-start`` before the first model: macros/checks.sql),
    ``segmentation_publish_prepare(build_id, export_path)`` and
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

        def publish_check(export_path: str) -> str:
            check_export_path(area, export_path)
            return str(area.exports_folder(export_path))

        def publish_prepare(build_id: str, export_path: str) -> str:
            return str(prepare(area, build_id, export_path))

        def publish_commit(build_id: str, export_path: str) -> str:
            return json.dumps(commit(area, build_id, export_path))

        for name, function, parameters in (
            ("segmentation_publish_check", publish_check, [duckdb.sqltype("varchar")]),
            ("segmentation_publish_prepare", publish_prepare, [duckdb.sqltype("varchar")] * 2),
            ("segmentation_publish_commit", publish_commit, [duckdb.sqltype("varchar")] * 2),
        ):
            with contextlib.suppress(duckdb.CatalogException, duckdb.NotImplementedException):
                connection.create_function(name, function, parameters, duckdb.sqltype("varchar"), side_effects=True)
