"""What measures the project, kept out of the shipped ``segmentation`` package.

- ``make bench`` (``python -m benchmarks.bench``): the real ``dbt build`` on N customers,
  timed, beside the notebook; its parts: :mod:`benchmarks.customers` (the customers
  files: cc_general resampled, or generated), :mod:`benchmarks.measuring` (a process's
  wall time and peak memory, dbt's run results), :mod:`benchmarks.runs` (the benchmarked
  builds and notebook runs, the quality check at scale), :mod:`benchmarks.targets` (the
  goals and their check) and :mod:`benchmarks.report` (``docs/benchmarks.md``);
- ``benchmarks/notebook_pipeline.py``: the plain pandas + scikit-learn baseline;
- ``benchmarks/build_fingerprint.py``: a fingerprint of every table of a warehouse, to
  show a refactoring keeps the builds identical.
"""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
