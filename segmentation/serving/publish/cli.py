"""``python -m segmentation.serving.publish status|rollback --database ...``: the build
readers get and the last publishes (``make publish-status``), or a rollback (``make rollback``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from segmentation.serving.publish.area import BuildArea, PublishError, warehouse_path
from segmentation.serving.publish.publish_log import read_log
from segmentation.serving.publish.switch import rollback


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
