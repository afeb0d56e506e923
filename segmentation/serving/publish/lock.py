"""The build lock: one dbt process at a time uses a warehouse's build workspace."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from segmentation.serving.publish.area import BuildArea, PublishError
from segmentation.serving.publish.publish_log import now

# The lock file's descriptor, held (flock) for the life of the process; the kernel
# releases it when the process ends, however it ends.
_held_locks: dict[Path, int] = {}


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
    os.pwrite(descriptor, f"PID {os.getpid()}, since {now():%Y-%m-%d %H:%M:%S} UTC".encode(), 0)
    _held_locks[area.lock] = descriptor


def release_build_locks() -> None:
    """Release every build lock this process holds: for a program that runs dbt
    in-process (dbtRunner) several times, at the end of each invocation, where a dbt
    process would have ended."""
    while _held_locks:
        _, descriptor = _held_locks.popitem()
        os.close(descriptor)
