"""The build workspace, before dbt opens it: folders, the lock, a warehouse of the earlier
layout moved in, and what killed builds left behind removed."""

from __future__ import annotations

import shutil
from pathlib import Path

from segmentation.log import logger
from segmentation.serving.publish.area import TEMPORARY_SUFFIX, BuildArea
from segmentation.serving.publish.files import copy_database
from segmentation.serving.publish.lock import acquire_build_lock
from segmentation.serving.publish.publish_log import reconcile_log
from segmentation.serving.publish.readers import link_readers


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
        copy_database(area.published, area.workspace)
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
