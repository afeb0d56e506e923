"""The paths of a published warehouse and of its builds (:class:`BuildArea`), and the
error every publish step raises when the area cannot be used (:class:`PublishError`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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
SEMANTIC_MANIFEST_FILE = "semantic_manifest.json"
LOCK_FILE = "build.lock"
TEMPORARY_SUFFIX = ".tmp"


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

    @property
    def default_exports(self) -> Path:
        """Where readers find the Parquet exports when var ``export_path`` is empty: a folder
        beside the published file named after it (``warehouse/segmentation_exports``), so
        every warehouse has its own."""
        return self.published.with_name(self.published.stem + "_exports")

    @property
    def default_report(self) -> Path:
        """The folder ``make report`` writes this warehouse's report to by default."""
        return self.published.with_name(self.published.stem + "_report")

    @property
    def target(self) -> Path:
        """dbt's target folder for builds of this warehouse (``make`` sets DBT_TARGET_PATH to it)."""
        return self.root / "target"

    @property
    def logs(self) -> Path:
        """dbt's log folder for builds of this warehouse (``make`` sets DBT_LOG_PATH to it)."""
        return self.root / "logs"

    def exports_folder(self, export_path: str | os.PathLike | None) -> Path:
        """The folder readers find the exports in: var ``export_path``, or, when it is
        empty, :attr:`default_exports`."""
        text = str(export_path or "").strip()
        return Path(os.path.abspath(text)) if text else self.default_exports

    @property
    def semantic_manifest(self) -> Path:
        """This build's semantic manifest, copied into the workspace before the first model
        and published with the build (what MetricFlow reads: :mod:`.metrics`)."""
        return self.root / WORKSPACE / SEMANTIC_MANIFEST_FILE

    def build_folder(self, build_id: str) -> Path:
        return self.builds / build_id

    def current_build_id(self) -> str | None:
        """The build readers get, or None before the first publish."""
        try:
            return Path(os.readlink(self.current)).name
        except FileNotFoundError:
            return None
