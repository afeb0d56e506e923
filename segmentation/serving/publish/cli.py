"""``python -m segmentation.serving.publish status|rollback --database ...``: the build
readers get and the last publishes (``make publish-status``), or a rollback (``make rollback``)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from segmentation.serving.publish.area import BuildArea, PublishError, warehouse_path
from segmentation.serving.publish.publish_log import read_log
from segmentation.serving.publish.space import MB, folder_size
from segmentation.serving.publish.switch import rollback


def disk_usage_text(area: BuildArea) -> str:
    """The disk each kept build and the workspace use, and what the disk has left."""
    current = area.current_build_id()
    lines = ["disk used:"]
    builds = sorted(area.builds.iterdir(), key=lambda path: path.stat().st_mtime) if area.builds.is_dir() else []
    for folder in builds:
        mark = "  (current)" if folder.name == current else ""
        lines.append(f"  published/{folder.name}: {folder_size(folder) / MB:,.1f} MB{mark}")
    workspace = area.workspace.parent
    if workspace.is_dir():
        lines.append(f"  workspace: {folder_size(workspace) / MB:,.1f} MB")
    if area.root.is_dir():
        lines.append(f"  free on that disk: {shutil.disk_usage(area.root).free / MB:,.0f} MB")
    return "\n".join(lines)


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
            print(disk_usage_text(area))
            for row in read_log(area)[-10:]:
                print(json.dumps({k: v for k, v in row.items() if k != "tables"}))
    except PublishError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
