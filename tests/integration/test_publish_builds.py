"""Write, audit, publish with real ``dbt build`` processes: a reader holding the published
warehouse open through a whole build, a second build started during a first, a failing
data test, ``make rollback``, and SIGKILL at seeded moments across a build, the publish
step included (the publish functions on small files: tests/unit/test_publish.py)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from segmentation.serving import publish
from segmentation.serving.publish import BuildArea
from segmentation.serving.publish.switch import KILL_AT_ENV
from tests.conftest import DEMO_SEED_CSV, REPO_ROOT, DbtRun, MetricFlow, build_ok, dbt_invocation, run_dbt

FAST = {"compare_reducers": False, "elbow_max_k": 4}
BI_TABLES = ("dim_customers", "customer_segments", "fct_campaign_audience", "dim_segments")


# --- real dbt builds -------------------------------------------------------------------------


KILL_SEED = 2026
TIMED_KILLS = 1
PUBLISH_POINTS = ("before_exports", "before_rename", "before_switch", "after_switch")


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
        # Every customer is segmented; the audience has them all but the atypical ones (by default).
        for table, expected in (
            ("customer_segments", "dim_customers"),
            ("fct_campaign_audience", "(select * from dim_customers where not is_atypical)"),
        ):
            assert one(
                f"select count(*) from {expected} as customers full join {table} "
                "using (customer_id, segment_id, segment_name) "
                f"where customers.customer_id is null or {table}.customer_id is null"
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
    first_build = assert_published_whole(first.database, first.exports)
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
    new_build = assert_published_whole(first.database, first.exports)
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
    mf = MetricFlow(first.database, workdir)
    try:
        second = run_dbt(workdir, "build", variables=variables)
        # MetricFlow reads the published build, read-only, during the build: no lock.
        during = mf.query("customers", "segment__model_version")
    finally:
        os.killpg(running.pid, signal.SIGCONT)
    published_version = first.scalar("select max(model_version) from dim_customers")
    assert during.to_dict("records") == [{"segment__model_version": published_version, "customers": 400}]
    assert second.returncode != 0
    assert "another dbt command is using the build workspace" in second.output
    assert f"(PID {running.pid}, since" in second.output and "Wait for it to finish" in second.output
    assert "START sql table model" not in second.output
    assert current_build(first) == before
    running.wait(timeout=600)
    assert running.returncode == 0, build_output(workdir)[-3000:]
    assert current_build(first) != before
    assert_published_whole(first.database, first.exports)
    after = mf.query("customers", "segment__model_version")
    assert after.to_dict("records") == [{"segment__model_version": published_version + 1, "customers": 400}]


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
    # MetricFlow, too, reads the published build: none of the failed build's rejected row.
    metrics = MetricFlow(first.database, workdir).query("rejected_rows,customers").iloc[0]
    assert metrics["customers"] == 400 and metrics.fillna(0)["rejected_rows"] == 0, metrics

    previous = publish.read_log(BuildArea.of_published(first.database))[-1]["previous_build_id"]
    if previous is None:  # this test alone: publish a second build to roll back from
        build_ok(workdir, {**variables, "random_seed": 11})
        previous = before_build
    env = {**os.environ, "DBT_DUCKDB_PATH": str(first.database)}
    rolled = subprocess.run(["make", "-s", "rollback"], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert f"readers now get build {previous}" in rolled.stdout
    assert current_build(first) == previous
    assert assert_published_whole(first.database, first.exports) == previous


# SIGKILL points: seeded fractions of a build's duration, the moment the publish step's
# new folder appears (the tables being copied), and named points inside commit().
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
    exports = run.exports
    area = BuildArea.of_published(run.database)
    published_before = assert_published_whole(run.database, exports)

    rng = random.Random(KILL_SEED)
    moments = [("after", round(rng.uniform(0.05, 0.95) * duration, 2)) for _ in range(TIMED_KILLS)]
    moments += [("copying", None)] + [("point", point) for point in PUBLISH_POINTS]
    seen, killed = [], 0
    for kind, moment in moments:
        extra = {KILL_AT_ENV: moment} if kind == "point" else {}
        # The same vars every time: dbt's partial parse is reused (each build fits a new
        # model version anyway, so every publish is a new build).
        process = start_build(tmp_path, variables, **extra)
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

    final = build_ok(tmp_path, variables)
    assert "published build" in final.output
    assert not list(area.builds.glob("*.tmp")) and not list(area.root.glob(".*.tmp"))
    assert len(list(area.builds.iterdir())) == 2
    assert_published_whole(final.database, exports)
    logged = [row["build_id"] for row in publish.read_log(area)]
    assert len(logged) == len(set(logged))
    assert current_build(final) == logged[-1]
    assert killed >= len(moments) - 1, seen  # builds that died by SIGKILL, not builds that finished first
