"""Garbage collection tuned for the one process a ``dbt build`` is.

A build's process holds a large, long-lived heap: dbt's manifest and compiled templates,
and the libraries the Python models import (scikit-learn, pandas). CPython's cyclic garbage
collector, with its default thresholds (700, 10, 10), walks that whole heap again and
again: on the demo data, eight full collections, about 1 s of a 9 s build; and at exit
Python collects it once more before tearing the modules down, another 0.8 s. Both do
nothing useful here: the heap stays until the process ends, and the operating system
takes it back then.

:func:`tune_for_build` (called by the plugin when dbt opens the warehouse) raises the
first threshold, so that collections run about 15 times less often (cyclic garbage still
goes, a little later; everything else is freed by reference counting as before: a
DataFrame as soon as its last reference goes), and freezes the heap at exit (``gc.freeze``:
the final collections skip it; every object is still released, and every connection
closed, as the modules are torn down). In a process that runs dbt programmatically
(``dbtRunner``, an orchestrator's worker), both stay for the rest of that process: its
collections run less often, and nothing else changes.
"""

from __future__ import annotations

import atexit
import gc

#: Allocations between two young-generation collections (CPython's default: 700).
YOUNG_GENERATION_THRESHOLD = 10_000

_tuned = False


def tune_for_build() -> None:
    """Collect less often from now on, and skip the collections of the exit (once per process)."""
    global _tuned
    if _tuned:
        return
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
    atexit.register(gc.freeze)
    _tuned = True
