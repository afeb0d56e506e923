"""Progress and warning lines that show up in the dbt build output.

Inside a dbt run, messages go through dbt's own event system (the adapter logger), so
they appear in the console and in ``logs/dbt.log`` with dbt's timestamps. Outside dbt
(pytest, scripts) they go to the standard :mod:`logging` logger ``segmentation``.
"""

from __future__ import annotations

import logging
from typing import Protocol


class Logger(Protocol):
    def info(self, msg: str) -> None: ...

    def warning(self, msg: str) -> None: ...


def get_logger() -> Logger:
    try:
        from dbt.adapters.events.logging import AdapterLogger
    except ImportError:  # pragma: no cover - dbt is a dependency, but the package works without it
        return logging.getLogger("segmentation")
    return AdapterLogger("segmentation")


logger = get_logger()
