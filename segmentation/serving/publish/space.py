"""A full disk: recognise it, and say what to free and where."""

from __future__ import annotations

import errno
import math
import shutil
from pathlib import Path

from segmentation.serving.publish.area import BuildArea

MB = 1024 * 1024
#: How the message looks for, in an error of DuckDB, dbt or the OS.
_NO_SPACE_TEXTS = ("no space left on device", "errno 28", "disk full", "enospc")


def is_out_of_space(error: BaseException | str) -> bool:
    """Whether ``error`` (or an error's text) says the disk is full."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return True
    text = str(error).lower()
    return any(marker in text for marker in _NO_SPACE_TEXTS)


def folder_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file() and not item.is_symlink())


def build_size(area: BuildArea) -> int:
    """The disk one build of this warehouse takes: the build readers get (its file and
    exports), or the workspace before the first publish."""
    build_id = area.current_build_id()
    if build_id and area.build_folder(build_id).is_dir():
        return folder_size(area.build_folder(build_id))
    return folder_size(area.workspace) if area.workspace.exists() else 0


def no_space_message(area: BuildArea) -> str:
    """What a build that ran out of space says: where, how much to free, and the way out."""
    folder = area.root if area.root.exists() else area.published.parent
    free = shutil.disk_usage(folder).free
    # A build needs room to rewrite its workspace and to copy it into a new published build.
    needed = max(math.ceil((build_size(area) * 1.2 - free) / MB), 1)
    return (
        f"no space left on {folder} ({free / MB:,.0f} MB free): free {needed:,} MB or point DBT_DUCKDB_PATH "
        "elsewhere. Readers keep the last published build; the next build cleans up after this one."
    )
