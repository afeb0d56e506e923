"""The whole project on a local Spark session: ``python -m segmentation.spark_build``.

dbt-spark builds SQL models on a local Spark (its ``session`` method, the ``spark``
target of profiles.yml), but submits Python models to Databricks clusters only. This
runner stands in for that submission, in one process and one Spark session:

1. ``dbt build`` on the ``spark`` target of the seeds, staging, intermediate models and
   ``rpt_rejection_reasons``, with their tests;
2. the fitting and scoring Python models (``segmentation_models``,
   ``customer_features_reduced``, ``customer_segments``), called as dbt would call them:
   ``model(dbt, session)`` with a small stand-in for ``dbt`` (``ref``, ``config``,
   ``this``, ``is_incremental``) whose config comes from dbt's own parse, and the result
   saved as the table dbt would write;
3. ``dbt build`` of the SQL views over the registry (``models/ml``);
4. the diagnostic Python models;
5. ``dbt run`` of the SQL marts, then ``dbt test`` of every test that touches a Python
   model or what is built after them.

The registry ``segmentation_models`` is incremental here too: a second build appends
version 2 (matched to version 1), and ``refit: false`` scores with a stored version.

Not on Spark: the exploration marts (DuckDB list functions) and ``bi_exports`` (Parquet
files written by DuckDB); on Databricks, BI tools read the marts' tables directly.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from segmentation.log import logger

REPO_ROOT = Path(__file__).resolve().parent.parent
FITTING_MODELS = ("segmentation_models", "customer_features_reduced", "customer_segments")
#: reducer_comparison and feature_transform_comparison only where their vars leave them enabled.
DIAGNOSTIC_MODELS = (
    "segment_quality",  # before segmentation_metrics, which reads it
    "segmentation_metrics",
    "segment_transitions",
    "pca_components",
    "model_scoring_sql",
    "feature_drift",
    "reducer_comparison",
    "feature_transform_comparison",
)
SQL_BEFORE_ML = (
    "+int_customer_features_engineered +rpt_rejection_reasons segment_naming_rules segment_campaigns "
    "segmentation_features"
)
#: Not built on Spark: the segment history follows published builds, which a Spark build
#: does not make; the reasons view's rendered SQL is longer than a Hive metastore keeps,
#: and too deeply nested for Spark's planner as a table.
ONLY_PUBLISHED = "customer_segment_history customer_segment_moves sem_segment_moves customer_segment_reasons"
SQL_REGISTRY_VIEWS = f"path:models/ml --exclude {ONLY_PUBLISHED}"
SQL_MARTS = "path:models/marts,resource_type:model --exclude rpt_rejection_reasons"
NOT_ON_SPARK = f"path:models/exploration bi_exports {ONLY_PUBLISHED}"


class SparkBuildError(RuntimeError):
    """A stage of the Spark build failed; the message names it."""


@dataclass(frozen=True)
class StandInConfig:
    """``dbt.config``: calling it sets nothing here (the node's config is dbt's parse);
    ``get`` reads the node's rendered config."""

    values: dict

    def __call__(self, **_: Any) -> None:
        return None

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


@dataclass
class StandInDbt:
    """What a dbt Python model uses of its ``dbt`` argument, on a Spark session."""

    session: Any
    schema: str
    name: str
    config: StandInConfig
    is_incremental: bool = False

    @property
    def this(self) -> str:
        return f"{self.schema}.{self.name}"

    def ref(self, name: str) -> Any:
        return self.session.table(f"{self.schema}.{name}")


#: The Spark master of the build and of the ``spark`` target: ``local[2]`` (one JVM, the
#: driver runs the tasks), or for example ``local-cluster[2,1,1024]`` (two executor JVMs of
#: one core and 1024 MB each, launched by an in-process standalone master and workers), or
#: ``spark://host:7077``. Read by spark_session and by profiles.yml.
MASTER_ENV = "SEGMENTATION_SPARK_MASTER"
DEFAULT_MASTER = "local[2]"
LOCAL_CLUSTER = re.compile(r"local-cluster\[\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\]")


def spark_master(master: str | None = None) -> str:
    """The master asked for: ``master``, else $SEGMENTATION_SPARK_MASTER, else local[2]."""
    return master or os.environ.get(MASTER_ENV) or DEFAULT_MASTER


def local_cluster_settings(master: str) -> dict[str, str]:
    """What ``local-cluster[N,C,M]`` needs beyond the master string: each executor as large
    as its worker (Spark's default of 1g never starts on a worker of less, and waits
    forever), and a Spark home whose ``bin/spark-class`` and ``jars/`` launch the executor
    JVMs (pip's pyspark ships both inside its package directory). Empty for other masters."""
    if not master.startswith("local-cluster"):
        return {}
    matched = LOCAL_CLUSTER.fullmatch(master.strip())
    if not matched:
        raise SparkBuildError(
            f"Spark master {master!r} is not local-cluster[N,C,M] (N executors of C cores and M MB each): "
            "for example local-cluster[2,1,1024]."
        )
    from pyspark.find_spark_home import _find_spark_home

    spark_home = Path(os.environ.get("SPARK_HOME") or _find_spark_home())
    missing = [part for part in ("bin/spark-class", "jars") if not (spark_home / part).exists()]
    if missing:
        raise SparkBuildError(
            f"Spark master {master} launches executor JVMs with SPARK_HOME/bin/spark-class and SPARK_HOME/jars, "
            f"but {spark_home} has no {' or '.join(missing)}: unset SPARK_HOME (pip's pyspark has both) "
            "or point it at a Spark distribution of the pyspark version."
        )
    # All executors are on this machine: a task never gains by waiting for a "local"
    # slot (Spark's default waits 3 s per locality level before it takes any free core).
    return {"spark.executor.memory": f"{matched.group(3)}m", "spark.locality.wait": "0s"}


def spark_session(warehouse: Path, master: str | None = None) -> Any:
    """The Spark session of the ``spark`` target (same settings as profiles.yml), on
    ``spark_master(master)``, with its tables and metastore under ``warehouse``.

    dbt-spark's ``session`` method then finds this session (``getOrCreate``) and runs
    every SQL model in it: the master of profiles.yml only applies where dbt starts Spark
    itself (``dbt build --target spark``), and reads the same variable."""
    master = spark_master(master)
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    # The context the process runs, whichever thread started it (getActiveSession only
    # sees the calling thread's session, and getOrCreate would silently return the
    # running context on its own master).
    running = SparkContext._active_spark_context
    if running is not None and running.master != master:
        raise SparkBuildError(
            f"This process already runs a Spark session on {running.master}; a process holds one "
            f"Spark context, so a build on {master} needs a process of its own: "
            f"python -m segmentation.spark_build --master '{master}'."
        )
    settings = local_cluster_settings(master)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ[MASTER_ENV] = master  # dbt's profile (and any child process) sees the same master
    os.environ["DBT_SPARK_WAREHOUSE"] = str(warehouse)
    warehouse.mkdir(parents=True, exist_ok=True)
    builder = (
        SparkSession.builder.master(master)
        .appName("customer-segmentation")
        .config("spark.sql.warehouse.dir", str(warehouse / "tables"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={warehouse / 'metastore_db'};create=true",
        )
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
        .config("spark.driver.memory", "4g")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.enableHiveSupport().getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def stop_spark(session: Any) -> None:
    """Stop ``session`` and the JVM behind it, so that the process holds no idle JVM (a
    stopped session keeps its JVM, which keeps using CPU, until the Python process exits).

    The executors stop first (else local-cluster's workers, shut down with the JVM, try to
    relaunch them and log errors); the JVM exits when its gateway's standard input closes.
    A later :func:`spark_session` in the same process starts a new JVM."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    session.stop()
    if gateway is None:
        return
    process = getattr(gateway, "proc", None)
    gateway.shutdown()
    SparkContext._gateway = None
    SparkContext._jvm = None
    if process is not None:
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class SparkBuild:
    """One build of the project on a Spark session (see the module docstring)."""

    session: Any
    variables: dict = field(default_factory=dict)
    schema: str = "segmentation"
    target_path: Path | None = None
    log_path: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    _nodes: dict[str, Any] = field(default_factory=dict, init=False)

    def dbt(self, *args: str) -> Any:
        """``dbt <args>`` on the spark target, in this process (so in this Spark session)."""
        from dbt.cli.main import dbtRunner

        command = [*args, "--target", "spark", "--vars", json.dumps(self.variables)]
        if self.target_path:
            command += ["--target-path", str(self.target_path)]
        if self.log_path:
            command += ["--log-path", str(self.log_path)]
        os.environ["DBT_SPARK_SCHEMA"] = self.schema
        result = dbtRunner().invoke(command, project_dir=str(REPO_ROOT), profiles_dir=str(REPO_ROOT))
        if not result.success:
            failed = [
                f"{item.node.name}: {item.status} {item.message or ''}".strip()
                for item in getattr(result.result, "results", None) or []
                if str(item.status) in ("error", "fail")
            ]
            raise SparkBuildError(
                f"dbt {' '.join(args)} failed on the spark target: {failed or result.exception}. "
                "See the dbt log for the details."
            )
        return result

    def parse(self) -> None:
        """dbt's parse with this build's vars: the Python models' rendered configs."""
        manifest = self.dbt("parse").result
        self._nodes = {node.name: node for node in manifest.nodes.values() if node.resource_type == "model"}

    def run_python_model(self, name: str) -> Any:
        """Call the Python model ``name`` as dbt-spark would, and save its result: a table
        is replaced; an incremental model (the registry) whose table exists sees
        ``dbt.is_incremental`` true and its result is appended."""
        node = self._nodes[name]
        spec = importlib.util.spec_from_file_location(f"dbt_model_{name}", REPO_ROOT / node.original_file_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        incremental = node.config.materialized == "incremental" and self.session.catalog.tableExists(
            f"{self.schema}.{name}"
        )
        stand_in = StandInDbt(
            self.session, self.schema, name, StandInConfig(node.config.to_dict()), is_incremental=incremental
        )
        started = time.perf_counter()
        try:
            result = module.model(stand_in, self.session)
            result.write.mode("append" if incremental else "overwrite").saveAsTable(stand_in.this)
        except Exception as error:
            raise SparkBuildError(f"Python model {name} failed on Spark: {error}") from error
        self.timings[name] = time.perf_counter() - started
        logger.info(f"python model {name} on Spark: {self.timings[name]:.1f} s")
        return result

    def stage(self, label: str, *args: str) -> None:
        started = time.perf_counter()
        self.dbt(*args)
        self.timings[label] = time.perf_counter() - started

    def run(self) -> None:
        started = time.perf_counter()
        self.session.sql(f"create database if not exists {self.schema}")
        self.parse()
        self.stage(
            "dbt: seeds, staging, intermediate",
            *("build", "--select", *SQL_BEFORE_ML.split(), "--indirect-selection", "cautious"),
        )
        for name in FITTING_MODELS:
            if name in self._nodes:
                self.run_python_model(name)
        self.stage("dbt: registry views", "run", "--select", *SQL_REGISTRY_VIEWS.split())
        for name in DIAGNOSTIC_MODELS:
            if name in self._nodes:  # a model disabled by a var is not in dbt's manifest
                self.run_python_model(name)
        self.stage("dbt: marts", "run", "--select", *SQL_MARTS.split())
        # Every test that touches a Python model or what is built after them, also those
        # whose other parents were built in the first stage (buildable: all parents are
        # selected or are their ancestors).
        self.stage(
            "dbt: tests of the Python models, views and marts",
            *("test", "--select", "path:python_models/ml+", "--exclude", *NOT_ON_SPARK.split()),
            *("--indirect-selection", "buildable"),
        )
        self.timings["total"] = time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vars", default="{}", help="dbt vars as YAML, as for dbt: '{customers_path: c.csv}'")
    parser.add_argument("--warehouse", default="warehouse/spark", help="folder of the Spark tables and metastore")
    parser.add_argument(
        "--master",
        default=None,
        help=f"Spark master: local[2] (the default, or ${MASTER_ENV}), local-cluster[2,1,1024] (two executor JVMs)",
    )
    parser.add_argument("--target-path", type=Path, default=None, help="dbt's target folder (default: target/)")
    parser.add_argument("--log-path", type=Path, default=None, help="dbt's log folder (default: logs/)")
    args = parser.parse_args(argv)
    session = spark_session(Path(args.warehouse).resolve(), master=args.master)
    context = session.sparkContext
    print(f"spark master: {context.master}, application {context.applicationId}", flush=True)
    build = SparkBuild(
        session,
        variables=yaml.safe_load(args.vars) or {},
        target_path=args.target_path,
        log_path=args.log_path,
    )
    try:
        build.run()
        for label, seconds in build.timings.items():
            print(f"{label}: {seconds:.1f} s")
        # The block managers the build ran on, the driver's among them: local[2] has none
        # beside it; local-cluster[N,C,M] adds one per executor JVM.
        executors = context._jsc.sc().getExecutorMemoryStatus().size() - 1
        print(f"spark executors: {executors}")
    finally:
        stop_spark(session)


if __name__ == "__main__":
    main()
