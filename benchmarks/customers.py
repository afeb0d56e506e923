"""The customers files a benchmark builds on: the public ``cc_general.csv`` resampled with
replacement to N rows with a fixed seed (:func:`resample_customers`), or, where that file
is missing, N customers from the project's generator; made once per size, source and seed
and then reused (:func:`customers_file`)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from benchmarks import PROJECT_ROOT
from benchmarks.measuring import BenchmarkError

#: The public data set the customers are resampled from, when it exists.
CC_GENERAL_CSV = PROJECT_ROOT.parent / "shared" / "data" / "cc_general.csv"
#: Seed of the resampling (which source row each customer copies).
RESAMPLE_SEED = 42


def resample_customers(source: Path, n_customers: int, path: Path, seed: int = RESAMPLE_SEED) -> None:
    """Write ``n_customers`` rows drawn with replacement from the CSV ``source`` to the
    Parquet file ``path``, in DuckDB (bounded memory: it spills to disk beside ``path``).

    Row ``i`` (1-based) copies the source row ``hash(i - 1, seed) mod m`` of the ``m`` source
    rows ordered by CUST_ID, and its CUST_ID becomes ``<CUST_ID>_<i>``, zero-padded to at
    least six digits (``C10001_000123``), so every id is unique. The columns and their
    types are those DuckDB reads from the CSV, in its order; the rows are written in the
    order of ``i``. The same source, size and seed give the same file (with the same DuckDB
    version: the row choice is DuckDB's ``hash``)."""
    import duckdb

    spill = path.with_name(path.name + ".spill")
    shutil.rmtree(spill, ignore_errors=True)
    try:
        with duckdb.connect() as connection:
            connection.execute("set memory_limit = '512MB'")
            connection.execute("set enable_progress_bar = false")
            connection.execute("set temp_directory = ?", [str(spill)])
            connection.execute("set preserve_insertion_order = true")
            connection.execute(
                "create temp table source_rows as "
                "select row_number() over (order by CUST_ID) - 1 as source_row, * "
                "from read_csv(?, header = true)",
                [str(source)],
            )
            columns = [column for column in connection.table("source_rows").columns if column != "source_row"]
            if "CUST_ID" not in columns:
                raise BenchmarkError(f"{source} has no CUST_ID column")
            (n_source,) = connection.execute("select count(*) from source_rows").fetchone()
            if n_source == 0:
                raise BenchmarkError(f"{source} has no rows to resample")
            width = max(6, len(str(n_customers)))
            selected = ", ".join(
                f"s.CUST_ID || '_' || lpad(cast(r.range + 1 as varchar), {width}, '0') as CUST_ID"
                if column == "CUST_ID"
                else f's."{column}"'
                for column in columns
            )
            query = (
                f"select {selected} from range({int(n_customers)}) r "
                f"join source_rows s on s.source_row = hash(r.range, {int(seed)}) % {int(n_source)} "
                "order by r.range"
            )
            connection.execute(f"copy ({query}) to '{_sql_text(path)}' (format parquet)")
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")


def data_source(source: Path | None) -> Path | None:
    """``source`` when it is an existing file, else None (the generator)."""
    return source if source is not None and source.is_file() else None


def describe_data(source: Path | None, seed: int = RESAMPLE_SEED) -> str:
    """The markdown bullet saying which customers the sized builds and the notebook read."""
    if source is None:
        return (
            "- Data: customers from the project's generator (`python -m segmentation.generator`; "
            "`../shared/data/cc_general.csv` was not found), as Parquet, read by the build through var "
            "`customers_path`."
        )
    shown = os.path.relpath(source, PROJECT_ROOT) if source.is_absolute() else str(source)
    return (
        f"- Data: the public `{shown}` resampled with replacement to N rows (seed {seed}: row i, from 0, "
        "copies source row DuckDB `hash(i, seed) mod m` of the m rows ordered by CUST_ID), CUST_ID suffixed "
        "with the row number (`C10001_000123`) so it stays unique; as Parquet, read by the build through var "
        "`customers_path`."
    )


def customers_file(n_customers: int, workdir: Path, source: Path | None, seed: int = RESAMPLE_SEED) -> Path:
    """The Parquet file of ``n_customers`` customers, made once and then reused: ``source``
    resampled (:func:`resample_customers`), or the generator's customers when ``source``
    is None. The file name holds the size, the source and the seed."""
    name = f"customers_{n_customers}_{source.stem}_seed{seed}" if source else f"customers_{n_customers}_generator"
    path = workdir / f"{name}.parquet"
    if path.exists():
        return path
    started = time.perf_counter()
    partial = path.with_name(path.stem + ".partial.parquet")
    partial.unlink(missing_ok=True)
    if source is not None:
        resample_customers(source, n_customers, partial, seed)
        made = f"resampled {source.name} to {n_customers:,} customers"
    else:
        from segmentation.generator import generate_customers, write_table

        customers, _ = generate_customers(n_customers)
        write_table(customers, partial)
        made = f"generated {n_customers:,} customers"
    partial.replace(path)  # only a complete file is ever reused
    print(f"{made} in {time.perf_counter() - started:.1f} s: {path}", flush=True)
    return path
