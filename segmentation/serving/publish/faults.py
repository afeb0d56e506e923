"""Fault injection for the tests: a build that kills or pauses itself at a named point.

``SEGMENTATION_PUBLISH_KILL_AT=<point>`` SIGKILLs the process there (a build killed at
that moment); ``SEGMENTATION_PUBLISH_STOP_AT=<point>`` SIGSTOPs it (the test does
something, a full disk say, then sends SIGCONT). The points: ``exports`` (bi_exports, before
its first file), ``before_copy`` (the publish, before the workspace is copied), and in
:func:`~.switch.commit` ``before_exports``, ``before_rename``, ``before_switch`` and
``after_switch``. Unset (always, outside the tests), they do nothing.
"""

from __future__ import annotations

import os
import signal

KILL_AT_ENV = "SEGMENTATION_PUBLISH_KILL_AT"
STOP_AT_ENV = "SEGMENTATION_PUBLISH_STOP_AT"


def fault_point(point: str) -> None:
    """Kill or pause this process here if a test asked for it."""
    if os.environ.get(KILL_AT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(STOP_AT_ENV) == point:
        os.kill(os.getpid(), signal.SIGSTOP)
