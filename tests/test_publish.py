"""Write, audit, publish: readers see whole builds only, never block one, and lose nothing
when a build dies (segmentation/serving/publish/, macros/publish.sql).

The first half drives the publish functions directly on small DuckDB files; the second
runs real ``dbt build`` processes: a reader holding the published warehouse open, a second
build started during a first, a failing data test, ``make rollback``, and SIGKILL at
seeded moments across a build, the publish step included.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from segmentation.serving import publish
from segmentation.serving.publish import BuildArea, PublishError
from segmentation.serving.publish.switch import KILL_AT_ENV
from tests.conftest import DEMO_SEED_CSV, REPO_ROOT, DbtRun, build_ok, dbt_invocation, run_dbt

FAST = {"compare_reducers": False, "elbow_max_k": 4}
BI_TABLES = ("dim_customers", "customer_segments", "fct_campaign_audience", "dim_segments")


# --- the publish functions on small files ----------------------------------------------------


def fake_build(area: BuildArea, build_id: str, model_version: int, customers: int = 5) -> dict:
    """What a build and the dbt publish step do, with a tiny dim_customers and one export:
    the table is written into the workspace, which prepare copies."""
    with duckdb.connect(str(area.workspace)) as connection:
        connection.execute(
            "create or replace table dim_customers as select 'C' || range as customer_id, "
            f"{model_version} as model_version from range({customers})"
        )
    database = publish.prepare(area, build_id, area.published.parent / "exports")
    with duckdb.connect(str(database), read_only=True) as connection:
        assert connection.execute("select max(model_version) from dim_customers").fetchone()[0] == model_version
    area.staged_exports.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as connection:
        connection.execute(
            f"copy (select {model_version} as model_version) to '{area.staged_exports / 'dim_segments.parquet'}'"
        )
    return publish.commit(area, build_id, area.published.parent / "exports")


def published_version(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute("select max(model_version) from dim_customers").fetchone()[0]


@pytest.fixture
def area(tmp_path) -> BuildArea:
    area = BuildArea.of_published(tmp_path / "segmentation.duckdb")
    publish.prepare_workspace(area)
    return area


def test_paths_of_a_published_warehouse_and_of_its_workspace(tmp_path):
    area = BuildArea.of_published(tmp_path / "w" / "segmentation.duckdb")
    assert area.workspace == tmp_path / "w" / "segmentation.duckdb.builds" / "workspace" / "segmentation.duckdb"
    assert BuildArea.of_workspace(area.workspace) == area
    with pytest.raises(PublishError, match="is not a build workspace"):
        BuildArea.of_workspace(tmp_path / "segmentation.duckdb")


def test_commit_switches_readers_in_one_step_and_keeps_one_earlier_build(area):
    first = fake_build(area, "b1", model_version=1)
    assert area.published.is_symlink() and published_version(area.published) == 1
    exports = area.published.parent / "exports"
    assert pq.read_table(exports / "dim_segments.parquet").to_pylist() == [{"model_version": 1}]
    assert first["customers"] == 5 and first["previous_build_id"] is None

    reader = duckdb.connect(str(area.published), read_only=True)
    fake_build(area, "b2", model_version=2)
    # A reader that opened the file before the switch keeps its build; new readers get the new one.
    assert reader.execute("select max(model_version) from dim_customers").fetchone()[0] == 1
    assert published_version(area.published) == 2
    reader.close()
    with duckdb.connect(str(area.published), read_only=True) as connection:
        log = connection.sql("select build_id, previous_build_id from publish_log order by published_at").fetchall()
    assert log == [("b1", None), ("b2", "b1")]

    fake_build(area, "b3", model_version=3)
    assert sorted(path.name for path in area.builds.iterdir()) == ["b2", "b3"]  # b1 pruned
    assert [row["build_id"] for row in publish.read_log(area)] == ["b1", "b2", "b3"]

    row = publish.rollback(area)
    assert row == {**row, "action": "rollback", "build_id": "b2", "previous_build_id": "b3"}
    assert published_version(area.published) == 2
    assert pq.read_table(exports / "dim_segments.parquet").to_pylist() == [{"model_version": 2}]
    with pytest.raises(PublishError, match="no earlier build is kept"):
        publish.rollback(area)


def test_leftovers_of_a_killed_publish_are_removed_and_a_lost_log_line_is_restored(area):
    fake_build(area, "b1", model_version=1)
    (area.builds / "dead.tmp").mkdir()
    (area.builds / "dead.tmp" / "segmentation.duckdb").write_bytes(b"half a file")
    (area.root / ".current.999.tmp").symlink_to("published/dead.tmp")
    # A kill between the switch and the log line: the entry lives in the build's folder.
    area.log.write_text("")
    publish.prepare_workspace(area)
    assert not list(area.builds.glob("*.tmp")) and not list(area.root.glob(".*.tmp"))
    assert [row["build_id"] for row in publish.read_log(area)] == ["b1"]


def test_a_second_process_cannot_take_the_workspace_and_is_told_who_has_it(tmp_path):
    area = BuildArea.of_published(tmp_path / "segmentation.duckdb")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom segmentation.serving.publish import BuildArea, acquire_build_lock\n"
            f"acquire_build_lock(BuildArea.of_published({str(area.published)!r}))\nprint('locked', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(PublishError, match=rf"another dbt command is using .*\(PID {holder.pid}, since"):
            publish.acquire_build_lock(area)
    finally:
        holder.kill()
        holder.wait()
    publish.acquire_build_lock(area)  # released when its holder died


def test_a_warehouse_file_of_the_earlier_layout_becomes_the_workspace(tmp_path):
    legacy = tmp_path / "segmentation.duckdb"
    with duckdb.connect(str(legacy)) as connection:
        connection.execute("create table segmentation_models as select 1 as model_version")
    area = BuildArea.of_published(legacy)
    publish.prepare_workspace(area)
    with duckdb.connect(str(area.workspace), read_only=True) as connection:
        assert connection.execute("select model_version from segmentation_models").fetchall() == [(1,)]
    assert legacy.is_file() and not legacy.is_symlink()  # readers keep it until the first publish
    fake_build(area, "b1", model_version=2)
    assert legacy.is_symlink() and published_version(legacy) == 2


def test_an_exports_folder_with_other_files_stops_the_publish_before_anything_changes(area):
    exports = area.published.parent / "exports"
    exports.mkdir()
    (exports / "old.parquet").write_bytes(b"")
    (exports / "notes.txt").write_text("mine")
    with pytest.raises(PublishError, match=r"files other than Parquet exports \(notes.txt\).*export_path"):
        fake_build(area, "b1", model_version=1)
    assert area.current_build_id() is None and not area.published.exists()
    assert sorted(p.name for p in exports.iterdir()) == ["notes.txt", "old.parquet"]
    (exports / "notes.txt").unlink()
    fake_build(area, "b2", model_version=1)  # Parquet files of the earlier layout give way to the link
    assert exports.is_symlink() and sorted(p.name for p in exports.iterdir()) == ["dim_segments.parquet"]


def test_export_paths_the_link_cannot_take_are_refused(area):
    fake_build(area, "b1", model_version=1)
    elsewhere = area.published.parent / "shared"
    elsewhere.mkdir()
    (area.published.parent / "linked").symlink_to(elsewhere)
    (area.published.parent / "a_file").write_text("x")
    for bad, why in (
        (area.current / "exports", "is inside the warehouse's build folder"),
        (area.root / "workspace" / "exports", "is inside the warehouse's build folder"),
        (area.published.parent / "linked", "is a link to"),
        (area.published.parent / "a_file", "is a file, not a folder"),
    ):
        with pytest.raises(PublishError, match=why):
            publish.prepare(area, "b2", bad)
    assert area.current_build_id() == "b1" and not list(area.builds.glob("*.tmp"))


def test_the_exports_link_resolves_when_its_folder_is_reached_through_a_link(area, tmp_path):
    real = tmp_path / "nas" / "deep"
    real.mkdir(parents=True)
    (tmp_path / "bi").symlink_to(real)
    with duckdb.connect(str(area.workspace)) as connection:
        connection.execute("create table dim_customers as select 'C1' as customer_id, 1 as model_version")
    publish.prepare(area, "b1", tmp_path / "bi" / "exports")
    area.staged_exports.mkdir(parents=True, exist_ok=True)
    (area.staged_exports / "dim_segments.parquet").write_bytes(b"PAR1")
    publish.commit(area, "b1", tmp_path / "bi" / "exports")
    assert (tmp_path / "bi" / "exports" / "dim_segments.parquet").read_bytes() == b"PAR1"


def test_rollback_after_a_kill_between_the_switch_and_the_log_line(area):
    fake_build(area, "b1", model_version=1)
    fake_build(area, "b2", model_version=2)
    area.log.write_text(area.log.read_text().splitlines()[0] + "\n")  # b2's line lost
    assert publish.rollback(area)["build_id"] == "b1"
    assert published_version(area.published) == 1


# --- real dbt builds -------------------------------------------------------------------------


def customers_file(folder: Path, rows: int = 400) -> Path:
    path = folder / "customers.csv"
    pd.read_csv(DEMO_SEED_CSV, dtype=str, keep_default_na=False).head(rows).to_csv(path, index=False)
    return path


def current_build(run: DbtRun) -> str:
    return BuildArea.of_published(run.database).current_build_id()


def assert_published_whole(database: Path, exports: Path) -> str:
    """The published warehouse opens, its BI tables agree with each other and with its
    Parquet exports, and its publish_log names the build readers get. Its build id."""
    area = BuildArea.of_published(database)
    with duckdb.connect(str(database), read_only=True) as connection:

        def one(sql: str):
            return connection.execute(sql).fetchall()

        assert one("select count(distinct model_version) from dim_customers") == [(1,)]
        for table in BI_TABLES[1:]:
            assert one(f"select distinct model_version from {table}") == one(
                "select distinct model_version from dim_customers"
            ), table
        for table in ("customer_segments", "fct_campaign_audience"):
            assert one(
                f"select count(*) from dim_customers full join {table} using (customer_id, segment_id, segment_name) "
                f"where dim_customers.customer_id is null or {table}.customer_id is null"
            ) == [(0,)], table
        assert one(
            "select count(*) from dim_customers left join dim_segments using (segment_id, segment_name) "
            "where dim_segments.segment_id is null"
        ) == [(0,)]
        for name in ("dim_customers", "dim_segments", "fct_campaign_audience"):
            exported = pq.read_table(exports / f"{name}.parquet")
            assert exported.num_rows == one(f"select count(*) from {name}")[0][0], name
            assert exported.column_names == [column for (column, *_) in one(f"describe {name}")], name
            connection.register("exported", exported)
            assert one(f"select count(*) from (select * from {name} except all select * from exported)") == [(0,)]
            connection.unregister("exported")
        (build_id,) = one("select build_id from publish_log order by published_at desc limit 1")[0]
    assert build_id == area.current_build_id()
    return build_id


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A published build on 400 demo customers; its folder, customers file and duration."""
    workdir = tmp_path_factory.mktemp("published")
    variables = {**FAST, "customers_path": str(customers_file(workdir))}
    started = time.monotonic()
    run = build_ok(workdir, variables)
    return run, workdir, variables, time.monotonic() - started


def start_build(workdir: Path, variables: dict, **extra_env: str) -> subprocess.Popen:
    """A ``dbt build`` in its own process group, its output to ``workdir/build_output.txt``
    (a pipe nobody reads while the test waits would fill up and stall dbt)."""
    command, env = dbt_invocation(workdir, "build", variables=variables)
    with open(workdir / "build_output.txt", "w") as output:
        return subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env={**env, **extra_env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def build_output(workdir: Path) -> str:
    return (workdir / "build_output.txt").read_text()


@pytest.mark.dbt
def test_a_reader_holding_the_warehouse_through_a_whole_build_never_blocks_it(published):
    first, workdir, variables, _ = published
    first_build = assert_published_whole(first.database, workdir / "exports")
    before = first.query("select * from dim_customers order by customer_id")
    reader = duckdb.connect(str(first.database), read_only=True)
    try:
        second = run_dbt(workdir, "build", variables={**variables, "random_seed": 7})
        assert second.returncode == 0, second.output[-4000:]
        # The reader still reads the build it opened...
        held = reader.execute("select * from dim_customers order by customer_id").df()
        pd.testing.assert_frame_equal(held, before)
        assert reader.execute("select max(model_version) from dim_customers").fetchone()[0] == 1
    finally:
        reader.close()
    # ...and a new connection gets the new build (model version 2, fitted with seed 7).
    assert first.scalar("select max(model_version) from dim_customers") == 2
    new_build = assert_published_whole(first.database, workdir / "exports")
    assert new_build != first_build
    assert first.scalar("select count(*) from publish_log") == 2


@pytest.mark.dbt
def test_two_builds_at_once_the_second_stops_with_a_clear_message_and_the_first_publishes(published):
    """Two real builds: the first is paused (SIGSTOP) once it holds the workspace, so the
    second surely starts while it runs; then the first goes on and publishes."""
    first, workdir, variables, _ = published
    before = current_build(first)
    lock = BuildArea.of_published(first.database).lock
    running = start_build(workdir, {**variables, "random_seed": 21})
    deadline = time.monotonic() + 300
    while f"PID {running.pid}," not in (lock.read_text() if lock.exists() else "") and time.monotonic() < deadline:
        assert running.poll() is None, build_output(workdir)[-3000:]
        time.sleep(0.05)
    os.killpg(running.pid, signal.SIGSTOP)
    try:
        second = run_dbt(workdir, "build", variables=variables)
    finally:
        os.killpg(running.pid, signal.SIGCONT)
    assert second.returncode != 0
    assert "another dbt command is using the build workspace" in second.output
    assert f"(PID {running.pid}, since" in second.output and "Wait for it to finish" in second.output
    assert "START sql table model" not in second.output
    assert current_build(first) == before
    running.wait(timeout=600)
    assert running.returncode == 0, build_output(workdir)[-3000:]
    assert current_build(first) != before
    assert_published_whole(first.database, workdir / "exports")


@pytest.mark.dbt
def test_a_failing_test_publishes_nothing_and_make_rollback_restores_the_previous_build(published):
    first, workdir, variables, _ = published
    before_build = current_build(first)
    before = first.query("select * from dim_customers order by customer_id")
    bad = pd.read_csv(variables["customers_path"], dtype=str, keep_default_na=False)
    bad.loc[0, "BALANCE"] = "n/a"
    bad_path = workdir / "one_bad_row.csv"
    bad.to_csv(bad_path, index=False)
    # One rejected row in 400 is above a 0.1% error threshold: the test fails after its
    # model was built, and dbt leaves that model's table in the workspace.
    failed = run_dbt(
        workdir, "build", variables={**variables, "customers_path": str(bad_path), "rejected_share_error": 0.001}
    )
    assert failed.returncode != 0
    assert "Not published:" in failed.output and "assert_rejected_share_below_error_threshold (fail)" in failed.output
    assert current_build(first) == before_build
    pd.testing.assert_frame_equal(first.query("select * from dim_customers order by customer_id"), before)
    assert failed.in_workspace().scalar("select count(*) from rejected_customers") == 1
    assert first.scalar("select count(*) from rejected_customers") == 0

    previous = publish.read_log(BuildArea.of_published(first.database))[-1]["previous_build_id"]
    if previous is None:  # this test alone: publish a second build to roll back from
        build_ok(workdir, {**variables, "random_seed": 11})
        previous = before_build
    env = {**os.environ, "DBT_DUCKDB_PATH": str(first.database)}
    rolled = subprocess.run(["make", "-s", "rollback"], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert f"readers now get build {previous}" in rolled.stdout
    assert current_build(first) == previous
    assert assert_published_whole(first.database, workdir / "exports") == previous


# SIGKILL points: seeded fractions of a build's duration, the moment the publish step's
# new folder appears (the tables being copied), and named points inside commit().
KILL_SEED = 2026
TIMED_KILLS = 2
PUBLISH_POINTS = ("before_exports", "before_rename", "before_switch", "after_switch")


def wait_for_new_folder(builds: Path, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if any(builds.glob("*.tmp")):
            return
        time.sleep(0.005)


@pytest.mark.dbt
def test_sigkill_at_any_moment_leaves_a_whole_published_build_and_the_next_build_publishes(tmp_path):
    variables = {**FAST, "customers_path": str(customers_file(tmp_path))}
    started = time.monotonic()
    run = build_ok(tmp_path, variables)
    duration = time.monotonic() - started
    exports = tmp_path / "exports"
    area = BuildArea.of_published(run.database)
    published_before = assert_published_whole(run.database, exports)

    rng = random.Random(KILL_SEED)
    moments = [("after", round(rng.uniform(0.05, 0.95) * duration, 2)) for _ in range(TIMED_KILLS)]
    moments += [("copying", None)] + [("point", point) for point in PUBLISH_POINTS]
    seen, killed = [], 0
    for index, (kind, moment) in enumerate(moments):
        extra = {KILL_AT_ENV: moment} if kind == "point" else {}
        process = start_build(tmp_path, {**variables, "random_seed": 100 + index}, **extra)
        if kind == "after":
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=moment)
        elif kind == "copying":
            wait_for_new_folder(area.builds, process, timeout=600)
        else:  # the build kills itself at the named point
            process.wait(timeout=600)
            assert process.returncode == -signal.SIGKILL, build_output(tmp_path)[-3000:]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        killed += process.returncode == -signal.SIGKILL
        build_id = assert_published_whole(run.database, exports)
        if kind == "point" and moment == "after_switch":
            # switched: the new build is whole and published
            assert build_id != published_before, build_output(tmp_path)[-3000:]
        elif kind == "point" or kind == "copying":
            # killed before the switch: nothing changed
            assert build_id == published_before, build_output(tmp_path)[-3000:]
        seen.append((kind, moment, build_id != published_before))
        published_before = build_id

    final = build_ok(tmp_path, {**variables, "random_seed": 999})
    assert "published build" in final.output
    assert not list(area.builds.glob("*.tmp")) and not list(area.root.glob(".*.tmp"))
    assert len(list(area.builds.iterdir())) == 2
    assert_published_whole(final.database, exports)
    logged = [row["build_id"] for row in publish.read_log(area)]
    assert len(logged) == len(set(logged))
    assert current_build(final) == logged[-1]
    assert killed >= 6, seen  # builds that died by SIGKILL, not builds that finished first
