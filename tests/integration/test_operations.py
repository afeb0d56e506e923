"""Operations with real builds: two warehouses of one checkout built at the same time with
default vars (each with its own exports, dbt target and metrics), and a disk that fills
up at three moments of a build, with a reader holding the published warehouse throughout."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from segmentation.serving.publish import BuildArea
from segmentation.serving.publish.faults import STOP_AT_ENV
from tests.conftest import DEMO_SEED_CSV, REPO_ROOT, MetricFlow, build_ok, dbt_invocation, run_dbt

pytestmark = pytest.mark.dbt

FAST = {"compare_reducers": False, "elbow_max_k": 4}


def customers_file(path: Path, rows: int) -> Path:
    pd.read_csv(DEMO_SEED_CSV, dtype=str, keep_default_na=False).head(rows).to_csv(path, index=False)
    return path


# --- several warehouses from one checkout ------------------------------------------------------


def make_run(warehouse: Path, customers: Path) -> subprocess.Popen:
    """``make run`` as the README has it for a second warehouse: DBT_DUCKDB_PATH and the data."""
    env = {**os.environ, "DBT_DUCKDB_PATH": str(warehouse), "TF_CPP_MIN_LOG_LEVEL": "3"}
    for variable in ("DBT_TARGET_PATH", "DBT_LOG_PATH"):
        env.pop(variable, None)
    variables = f"{{customers_path: {customers}, compare_reducers: false, elbow_max_k: 4}}"
    return subprocess.Popen(
        ["make", "-s", "run", f"VARS={variables}"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finished(process: subprocess.Popen) -> str:
    output = process.communicate(timeout=900)[0]
    assert process.returncode == 0, output[-4000:]
    return output


def test_two_warehouses_of_one_folder_build_one_after_the_other_and_at_once_with_default_vars(tmp_path):
    """`make run` for one warehouse, then for it and a second one of the same folder at once,
    default vars but the data: every build publishes, each warehouse with its own exports,
    dbt target and logs, and mf reads each one's own published build whichever warehouse
    dbt parsed last."""
    folder = tmp_path / "warehouse"
    sizes = {"segmentation": 400, "last_month": 300}
    data = {name: customers_file(tmp_path / f"{name}.csv", rows) for name, rows in sizes.items()}
    first = folder / "segmentation.duckdb"
    finished(make_run(first, data["segmentation"]))
    before = BuildArea.of_published(first).current_build_id()
    builds = {name: make_run(folder / f"{name}.duckdb", data[name]) for name in sizes}
    for process in builds.values():
        finished(process)
    assert BuildArea.of_published(first).current_build_id() != before
    for name, rows in sizes.items():
        area = BuildArea.of_published(folder / f"{name}.duckdb")
        exports = folder / f"{name}_exports"
        assert exports.is_symlink() and len(pd.read_parquet(exports / "dim_customers.parquet")) == rows
        # dbt's target and logs of each build are its warehouse's own
        assert (area.target / "manifest.json").is_file() and (area.logs / "dbt.log").is_file()
        with duckdb.connect(str(area.published), read_only=True) as reader:
            assert reader.execute("select count(*) from dim_customers").fetchone()[0] == rows
    for name, rows in sizes.items():
        counts = MetricFlow(folder / f"{name}.duckdb", tmp_path).query("customers")
        assert counts["customers"].tolist() == [rows]


# --- a disk that fills up ------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 96 MB tmpfs, mounted for the test (needs root, as in CI)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full disk is tested on a tmpfs of its own, which only root can mount (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(mount)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill ``disk`` with one file until ``leave`` bytes are free (0: completely)."""
    filler = disk / "filler.bin"
    chunk = b"\xff" * (1 << 20)
    with open(filler, "ab") as handle, contextlib.suppress(OSError):
        while shutil.disk_usage(disk).free > leave:
            handle.write(chunk[: max(min(len(chunk), shutil.disk_usage(disk).free - leave), 1)])
            handle.flush()
    return filler


def wait_stopped(process: subprocess.Popen, timeout: float = 600) -> None:
    """Wait until ``process`` has stopped itself (SIGSTOP at a fault point)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the build ended before reaching its stop point"
        state = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "T":
            return
        time.sleep(0.05)
    raise AssertionError("the build never reached its stop point")


def build_stopping_at(workdir: Path, database: Path, variables: dict, point: str, disk: Path) -> tuple[int, str]:
    """A build that pauses at ``point``, where the test fills the disk, then goes on."""
    command, env = dbt_invocation(workdir, "build", variables=variables, database=database)
    with open(workdir / "stopped_build.txt", "w") as output:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env={**env, STOP_AT_ENV: point}, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_stopped(process)
        fill(disk)
    finally:
        os.kill(process.pid, signal.SIGCONT)
    process.wait(timeout=600)
    return process.returncode, (workdir / "stopped_build.txt").read_text()


def out_of_space_nodes(output: str) -> list[str]:
    """The nodes the build names as having run out of disk space (macros/publish.sql)."""
    said = re.search(r"Out of disk space in ([^:]+):", output)
    return said.group(1).split(", ") if said else []


def test_a_full_disk_at_any_moment_loses_nothing_and_the_next_build_publishes(tmp_path, small_disk):
    database = small_disk / "warehouse.duckdb"
    # The same vars for every build (dbt's partial parse is reused); each fits a new version.
    customers = customers_file(tmp_path / "customers.csv", 400)
    variables = {**FAST, "customers_path": str(customers)}
    first = build_ok(tmp_path, variables, database=database)
    area = BuildArea.of_published(database)
    published = area.current_build_id()
    reader = duckdb.connect(str(database), read_only=True)  # held throughout
    expected = reader.execute("select * from dim_customers order by customer_id").df()

    def assert_nothing_lost(output: str, where: str) -> None:
        assert f"no space left on {area.root}" in output and "free " in output, output[-4000:]
        assert "MB or point DBT_DUCKDB_PATH elsewhere" in output, output[-4000:]
        assert where in output, output[-4000:]
        assert area.current_build_id() == published
        pd.testing.assert_frame_equal(reader.execute("select * from dim_customers order by customer_id").df(), expected)
        pd.testing.assert_frame_equal(first.query("select * from dim_customers order by customer_id"), expected)
        assert len(pd.read_parquet(first.exports / "dim_customers.parquet")) == 400
        assert not list(area.builds.glob("*.tmp")), "a partial copy was left behind"

    # 1. In a model: 1 MB is left when a build of 20 times more customers starts.
    filler = fill(small_disk, leave=1 << 20)
    shutil.copyfile(DEMO_SEED_CSV, customers)
    failed = run_dbt(tmp_path, "build", variables=variables, database=database)
    customers_file(customers, 400)
    assert failed.returncode != 0
    assert_nothing_lost(failed.output, "Out of disk space in ")
    (tmp_path / "full_disk_model.txt").write_text(failed.output)
    filler.unlink()
    # 2. In the exports (bi_exports writes its Parquet files) and 3. in the copy into a new
    # published build: the build pauses there and the test fills the disk.
    for point, where in (("exports", "Out of disk space in "), ("before_copy", "while publishing")):
        returncode, output = build_stopping_at(tmp_path, database, variables, point, small_disk)
        assert returncode != 0
        assert_nothing_lost(output, where)
        if point == "exports":
            # A node writing beside it at that moment (a view's catalog entry) may run out too.
            assert "bi_exports" in out_of_space_nodes(output), output[-4000:]
        (tmp_path / f"full_disk_{point}.txt").write_text(output)
        (small_disk / "filler.bin").unlink()
    # Space freed: the next build publishes, without any cleanup by hand.
    final = build_ok(tmp_path, variables, database=database)
    assert area.current_build_id() != published
    assert final.scalar("select count(*) from dim_customers") == 400
    assert reader.execute("select count(*) from dim_customers").fetchone()[0] == 400  # the reader's build, still
    reader.close()
