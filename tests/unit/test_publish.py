"""Write, audit, publish: readers see whole builds only, never block one, and lose nothing
when a build dies (segmentation/serving/publish/, macros/publish.sql).

The publish functions driven directly on small DuckDB files; the same with real ``dbt
build`` processes is tests/integration/test_publish_builds.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from segmentation.serving import publish
from segmentation.serving.publish import BuildArea, PublishError
from segmentation.serving.publish.lock import release_build_locks

FAST = {"compare_reducers": False, "elbow_max_k": 4}
BI_TABLES = ("dim_customers", "customer_segments", "fct_campaign_audience", "dim_segments")


# --- the publish functions on small files ----------------------------------------------------


def fake_build(
    area: BuildArea,
    build_id: str,
    model_version: int,
    customers: int = 5,
    export_path: str | Path | None = None,
    keep: int = 2,
) -> dict:
    """What a build and the dbt publish step do, with a tiny dim_customers and one export:
    the table is written into the workspace, which prepare copies (into ``exports`` beside
    the warehouse unless ``export_path`` says otherwise: empty is var export_path's default)."""
    export_path = area.published.parent / "exports" if export_path is None else export_path
    with duckdb.connect(str(area.workspace)) as connection:
        connection.execute(
            "create or replace table dim_customers as select 'C' || range as customer_id, "
            f"{model_version} as model_version from range({customers})"
        )
    database = publish.prepare(area, build_id, export_path)
    with duckdb.connect(str(database), read_only=True) as connection:
        assert connection.execute("select max(model_version) from dim_customers").fetchone()[0] == model_version
    area.staged_exports.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as connection:
        connection.execute(
            f"copy (select {model_version} as model_version) to '{area.staged_exports / 'dim_segments.parquet'}'"
        )
    return publish.commit(area, build_id, export_path, keep=keep)


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


def test_by_default_every_warehouse_publishes_its_exports_into_its_own_folder(tmp_path):
    """var export_path empty (its default): the exports folder is named after the warehouse
    file, so two warehouses of one folder (one checkout) both publish."""
    folder = tmp_path / "warehouse"
    for name, version in (("segmentation", 1), ("last_month", 2), ("segmentation", 3)):
        area = BuildArea.of_published(folder / f"{name}.duckdb")
        assert area.exports_folder("") == area.exports_folder(None) == folder / f"{name}_exports"
        publish.prepare_workspace(area)
        fake_build(area, f"b{version}", model_version=version, export_path="")
        exported = pq.read_table(folder / f"{name}_exports" / "dim_segments.parquet").to_pylist()
        assert exported == [{"model_version": version}] and published_version(area.published) == version
    assert pq.read_table(folder / "last_month_exports" / "dim_segments.parquet").to_pylist() == [{"model_version": 2}]
    # A folder given explicitly is used as it is, relative to where dbt runs.
    assert area.exports_folder("bi/exports") == Path.cwd() / "bi" / "exports"


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


def test_an_in_process_runner_releases_its_build_locks_when_an_invocation_ends(tmp_path):
    """A program that runs dbt in-process (dbtRunner, the tests' run_dbt) holds the build
    lock as a dbt process would, until release_build_locks: then another process takes it."""
    area = BuildArea.of_published(tmp_path / "segmentation.duckdb")
    other_process = [
        sys.executable,
        "-c",
        "from segmentation.serving.publish import BuildArea, PublishError, acquire_build_lock\n"
        f"try:\n    acquire_build_lock(BuildArea.of_published({str(area.published)!r}))\n"
        "except PublishError:\n    print('refused')\nelse:\n    print('taken')\n",
    ]
    publish.acquire_build_lock(area)
    assert subprocess.run(other_process, capture_output=True, text=True, check=True).stdout.strip() == "refused"
    release_build_locks()
    assert subprocess.run(other_process, capture_output=True, text=True, check=True).stdout.strip() == "taken"


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


def test_published_builds_kept_keeps_that_many_and_rollback_goes_back_through_them(area):
    for version in range(1, 5):
        fake_build(area, f"b{version}", model_version=version, keep=3)
    assert sorted(path.name for path in area.builds.iterdir()) == ["b2", "b3", "b4"]
    assert publish.rollback(area)["build_id"] == "b3" and publish.rollback(area)["build_id"] == "b2"
    assert published_version(area.published) == 2
    assert publish.prune(area, keep=1) == ["b3", "b4"]
    assert sorted(path.name for path in area.builds.iterdir()) == ["b2"]
    with pytest.raises(PublishError, match="published_builds_kept"):
        publish.rollback(area)
    with pytest.raises(PublishError, match="at least 1"):
        publish.prune(area, keep=0)


def test_a_full_disk_in_the_copy_or_the_commit_leaves_no_partial_build_and_says_what_to_free(area, monkeypatch):
    import errno

    from segmentation.serving.publish import switch

    fake_build(area, "b1", model_version=1)

    def no_space(*arguments, **keywords):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(switch, "copy_database", no_space)
    with pytest.raises(PublishError, match=r"no space left on .*\.builds \([\d,]+ MB free\): free [\d,]+ MB or point"):
        publish.prepare(area, "b2", area.published.parent / "exports")
    assert not list(area.builds.glob("*.tmp")) and area.current_build_id() == "b1"
    monkeypatch.undo()

    publish.prepare(area, "b2", area.published.parent / "exports")
    monkeypatch.setattr(switch, "write_publish_log_table", no_space)
    with pytest.raises(PublishError, match="no space left on"):
        publish.commit(area, "b2", area.published.parent / "exports")
    assert not list(area.builds.glob("*.tmp")) and area.current_build_id() == "b1"
    assert published_version(area.published) == 1


def test_the_disk_each_build_uses_is_in_publish_status(area):
    from segmentation.serving.publish.cli import disk_usage_text

    fake_build(area, "b1", model_version=1)
    fake_build(area, "b2", model_version=2)
    text = disk_usage_text(area)
    assert "published/b1: " in text and "published/b2: " in text and " MB  (current)" in text
    assert "workspace: " in text and "free on that disk: " in text


# --- metrics read the published build -----------------------------------------------------------


def test_metricflow_processes_read_the_published_build_read_only(area, monkeypatch):
    from types import SimpleNamespace

    from segmentation.serving.publish import metrics

    monkeypatch.setenv(metrics.READ_PUBLISHED_ENV, "1")
    assert metrics.reads_published_warehouse()
    creds, config = SimpleNamespace(path=str(area.workspace)), {}
    with pytest.raises(PublishError, match="nothing is published"):
        metrics.open_published_read_only(area, creds, config)
    fake_build(area, "b1", model_version=1)
    database = metrics.open_published_read_only(area, creds, config)
    assert creds.path == str(area.build_folder("b1") / area.published.name) == str(database)
    assert config == {"access_mode": "READ_ONLY"}
    monkeypatch.setenv(metrics.READ_PUBLISHED_ENV, "0")
    assert not metrics.reads_published_warehouse()


def test_a_semantic_manifest_written_for_another_warehouse_is_refused(area, tmp_path):
    import json

    from segmentation.serving.publish import metrics

    target = tmp_path / "target"
    target.mkdir()
    assert metrics.snapshot_semantic_manifest(area, target) is None
    manifest = {"semantic_models": [{"node_relation": {"database": area.workspace.stem}}]}
    (target / "semantic_manifest.json").write_text(json.dumps(manifest))
    assert metrics.snapshot_semantic_manifest(area, target) == area.semantic_manifest
    manifest["semantic_models"][0]["node_relation"]["database"] = "last_month"
    (target / "semantic_manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PublishError, match=r"written for another warehouse.*DBT_TARGET_PATH"):
        metrics.snapshot_semantic_manifest(area, target)


def test_a_partial_parse_of_a_moved_checkout_is_removed(tmp_path):
    from segmentation.serving.publish.dbt_target import (
        PARTIAL_PARSE_FILE,
        check_parse_of_this_checkout,
        forget_parse_of_moved_checkout,
    )

    target, old, new = tmp_path / "target", tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    assert not forget_parse_of_moved_checkout(target, old)  # first parse: recorded
    (target / PARTIAL_PARSE_FILE).write_bytes(b"paths of old")
    check_parse_of_this_checkout(target, old)  # same folder: kept
    assert (target / PARTIAL_PARSE_FILE).exists()
    with pytest.raises(PublishError, match=r"parsed at .*old.*run the command again"):
        check_parse_of_this_checkout(target, new)
    assert not (target / PARTIAL_PARSE_FILE).exists()
    (target / PARTIAL_PARSE_FILE).write_bytes(b"paths of new")
    check_parse_of_this_checkout(target, new)  # recorded as new now
    (target / "segmentation_checkout.txt").unlink()
    assert forget_parse_of_moved_checkout(target, new, unrecorded_is_moved=True)  # make run: unknown folder


def test_the_build_process_collects_less_often_and_not_at_exit():
    """tune_for_build (the plugin calls it when dbt opens the warehouse): the first
    threshold of the garbage collector raised, the others kept, and one gc.freeze at exit,
    however many times it is called."""
    script = (
        "import atexit, gc\n"
        "from segmentation.serving.publish.build_process import YOUNG_GENERATION_THRESHOLD, tune_for_build\n"
        "before = gc.get_threshold(); callbacks = atexit._ncallbacks()\n"
        "tune_for_build(); tune_for_build()\n"
        "after = gc.get_threshold()\n"
        "assert after == (YOUNG_GENERATION_THRESHOLD, *before[1:]) and after[0] > before[0], (before, after)\n"
        "assert atexit._ncallbacks() == callbacks + 1, atexit._ncallbacks() - callbacks\n"
        "print('tuned')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "tuned", result.stderr
