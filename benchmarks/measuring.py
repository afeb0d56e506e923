"""Measuring one process: its wall time and peak resident memory, and where the time of a
dbt build went (its ``run_results.json``)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import PROJECT_ROOT

MIB = 1024 * 1024
GIB = 1024 * MIB


class BenchmarkError(RuntimeError):
    """A benchmarked command failed; the message names its log file."""


@dataclass(frozen=True)
class Measurement:
    """One timed process: wall seconds and peak resident memory in bytes."""

    seconds: float
    peak_bytes: int


#: Runs a command and writes its wall seconds and peak resident KiB to the file argv[1].
#: A small interpreter of its own, importing nothing big: a child's ru_maxrss also counts
#: the memory of the process it was forked from, so the benchmark's own (scikit-learn
#: loaded) must not be that parent.
_MEASURING_WRAPPER = """
import os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
with open(sys.argv[1], "w") as result:
    result.write(f"{time.perf_counter() - started} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measure(command: Sequence[str], log_path: Path, env: dict[str, str] | None = None) -> Measurement:
    """Run ``command`` (output to ``log_path``), returning its wall time and peak memory
    (``ru_maxrss``, as ``/usr/bin/time -v`` reports it)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result_path = log_path.with_suffix(".measure")
    with log_path.open("w") as log:
        completed = subprocess.run(
            [sys.executable, "-c", _MEASURING_WRAPPER, str(result_path), *command],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=PROJECT_ROOT,
            check=False,
        )
    if completed.returncode != 0:
        raise BenchmarkError(f"{' '.join(command[:3])} ... failed (exit code {completed.returncode}); see {log_path}")
    seconds, peak = result_path.read_text().split()
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    return Measurement(seconds=float(seconds), peak_bytes=int(peak) * (1 if sys.platform == "darwin" else 1024))


def run_results_summary(path: Path) -> tuple[list[tuple[str, float]], dict[str, tuple[int, float]]]:
    """From dbt's ``run_results.json``: each model's seconds (slowest first), and the
    count and summed seconds of each kind of node."""
    results = json.loads(path.read_text())["results"]
    models = sorted(
        ((result["unique_id"].split(".")[-1], float(result["execution_time"])) for result in results
         if result["unique_id"].startswith("model.")),
        key=lambda item: -item[1],
    )  # fmt: skip
    totals: dict[str, tuple[int, float]] = {}
    for result in results:
        kind = result["unique_id"].split(".")[0]
        count, seconds = totals.get(kind, (0, 0.0))
        totals[kind] = (count + 1, seconds + float(result["execution_time"]))
    return models, totals
