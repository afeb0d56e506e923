"""The file operations a publish is made of: links replaced in one atomic step, a DuckDB
file copied with its write-ahead log, and fsync so that a switch survives a crash."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from segmentation.serving.publish.area import TEMPORARY_SUFFIX


def replace_link(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` in one atomic step (a new link renamed over it)."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}{TEMPORARY_SUFFIX}")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    os.symlink(target, temporary)
    os.replace(temporary, link)


def ensure_link(link: Path, target: Path) -> None:
    """Make ``link`` a link to ``target`` unless it is one; a plain file or folder of an
    earlier layout is replaced (a folder only if it holds nothing but Parquet exports)."""
    if link.is_symlink():
        if Path(os.readlink(link)) == target:
            return
    elif link.is_dir():  # exports of the earlier layout (check_export_path allowed only those)
        legacy = link.with_name(f".{link.name}.legacy{TEMPORARY_SUFFIX}")
        os.replace(link, legacy)
        replace_link(link, target)
        shutil.rmtree(legacy, ignore_errors=True)
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    replace_link(link, target)


def copy_database(source: Path, destination: Path) -> None:
    """Copy a DuckDB file and its write-ahead log (if any); ``destination`` appears whole."""
    temporary = destination.with_name(destination.name + TEMPORARY_SUFFIX)
    shutil.copy2(source, temporary)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copy2(wal, temporary.with_name(temporary.name + ".wal"))
        os.replace(temporary.with_name(temporary.name + ".wal"), destination.with_name(destination.name + ".wal"))
    os.replace(temporary, destination)


def fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
    fsync_directory(folder)


def fsync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
