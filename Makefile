# The two commands of the README: `make run` builds the warehouse on the demo data,
# `make test` runs the whole test suite. Both set up .venv first when needed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# A virtual environment is tied to the folder it was made in (its scripts start with that
# path): the stamps name the folder, so a moved or renamed checkout sets .venv up again.
VENV_HOME := $(subst /,_,$(abspath $(VENV)))
STAMP := $(VENV)/.installed$(VENV_HOME)
SPARK_STAMP := $(VENV)/.installed-spark$(VENV_HOME)
# Spark's Python workers run this environment's Python; Spark binds to the loopback.
# The Spark tests must not be skipped where `make test` runs them.
SPARK_ENV := PYSPARK_PYTHON=$(abspath $(BIN))/python SPARK_LOCAL_IP=127.0.0.1 SEGMENTATION_REQUIRE_SPARK=1
WAREHOUSE ?= $(or $(DBT_DUCKDB_PATH),warehouse/segmentation.duckdb)
# Everything a build writes outside its workspace belongs to the warehouse (DBT_DUCKDB_PATH):
# the exports folder beside it (var export_path empty), its report, and dbt's target/ and
# logs/ in its build folder, so that builds of two warehouses from one checkout, even at the
# same time, never share a file (docs/publishing.md). DBT_TARGET_PATH/DBT_LOG_PATH override.
WAREHOUSE_EXPORTS := $(dir $(WAREHOUSE))$(basename $(notdir $(WAREHOUSE)))_exports
WAREHOUSE_REPORT := $(dir $(WAREHOUSE))$(basename $(notdir $(WAREHOUSE)))_report
# dbt's partial parse keeps the checkout's absolute paths: one made in another folder (a
# moved checkout) is removed first (segmentation/serving/publish/dbt_target.py).
DBT_TARGET := $(or $(DBT_TARGET_PATH),$(WAREHOUSE).builds/target)
DBT := $(BIN)/python -m segmentation.serving.publish.dbt_target $(DBT_TARGET) && \
	DBT_DUCKDB_PATH=$(WAREHOUSE) DBT_TARGET_PATH=$(DBT_TARGET) DBT_LOG_PATH=$(or $(DBT_LOG_PATH),$(WAREHOUSE).builds/logs) \
	$(BIN)/dbt

# Keep TensorFlow's C++ log noise out of dbt's output.
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: setup setup-spark run run-spark build test test-spark unit lint format docs report bench quality demo-data lock lock-spark \
	query rollback publish-status clean generated

setup: $(STAMP)

# The pinned packages are installed with uv (itself pinned, from PyPI): the same versions as
# pip would install from requirements.txt, in a fraction of the time (about 10 s instead of
# about 90 s with a warm cache). They are installed compiled to bytecode: every dbt build
# imports dbt, pandas, scipy and scikit-learn again, and where Python may not write .pyc
# files (PYTHONDONTWRITEBYTECODE, a read-only venv) compiling them from source each time
# cost about 7 s of every build (a demo build: 19 s without, 12 s with).
UV_VERSION := 0.13.8
UV := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python

$(STAMP): requirements.txt pyproject.toml
	@if [ -e $(BIN)/pip ] && ! head -n 1 $(BIN)/pip | grep -qF '#!$(abspath $(BIN))/'; then \
		echo "$(VENV) was made in another folder (a moved checkout): making it again"; rm -rf $(VENV); fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV) -r requirements.txt
	$(UV) --no-deps --no-build-isolation -e .
	$(BIN)/python -m compileall -q segmentation
	@touch $(STAMP)

## Build the warehouse on the embedded demo data (any dbt var can be passed: VARS='{n_segments: 4}').
run: setup
	$(DBT) build $(if $(VARS),--vars '$(VARS)')
	@echo
	@echo "Warehouse published: $(abspath $(WAREHOUSE))"
	@echo "Query it, for example:"
	@echo "  $(BIN)/python -m segmentation.serving.query \"select * from dim_segments order by segment_id\""
	@echo "  make query SQL=\"select segment_id, count(*) from dim_customers group by 1\""
	@echo "or open the file in DuckDB, DBeaver or any DuckDB client, read-only (builds never wait for readers)."
	@echo "Parquet exports for BI: $(abspath $(WAREHOUSE_EXPORTS))/ (unless var export_path says otherwise)"
	@echo "The HTML report: make report  (writes $(abspath $(WAREHOUSE_REPORT))/segmentation_report.html)"

build: run

## The Spark extra (dbt-spark, PySpark; needs Java 17), on top of setup. Not in `make setup`.
setup-spark: $(SPARK_STAMP)

$(SPARK_STAMP): $(STAMP) requirements-spark.txt
	$(UV) -r requirements-spark.txt -c requirements.txt
	@touch $(SPARK_STAMP)

## The whole project on a local Spark session (SQL models through dbt-spark, the Python
## models through segmentation.spark_build), into warehouse/spark/. The master is local[2];
## SEGMENTATION_SPARK_MASTER='local-cluster[2,1,1024]' runs the tasks in two executor JVMs.
run-spark: setup-spark
	$(SPARK_ENV) $(BIN)/python -m segmentation.spark_build $(if $(VARS),--vars '$(VARS)')

## The whole test suite: linters, then pytest (which runs real dbt builds, on DuckDB and
## on a local Spark: it installs the Spark extra). Two test files run at once, one per core
## (a file's tests stay together, so they share its builds; three at once measured slower).
## TEST_WORKERS and PYTEST_ARGS change that.
TEST_WORKERS ?= 2
test: setup setup-spark lint
	$(SPARK_ENV) $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --durations=30 $(PYTEST_ARGS)

## The unit tests (tests/unit: no dbt, no Spark; the same as pytest -m "not dbt"), no linters; about a minute.
unit: setup
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

## The Spark tests alone (tests/integration/test_spark.py).
test-spark: setup-spark
	$(SPARK_ENV) $(BIN)/pytest -m spark

## sqlfluff spends its time parsing the rendered SQL, file by file (the per-feature models
## render to 40,000 characters): one process per core halves it (90 s to 52 s here).
LINT_PROCESSES ?= $(shell nproc 2>/dev/null || echo 1)
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint models tests/singular analyses --processes $(LINT_PROCESSES)

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix models tests/singular analyses

docs: setup
	$(DBT) docs generate

## Regenerate what segmentation/vars.py (the declaration of every dbt var) generates:
## macros/var_spec.sql, the segmentation_params block of python_models/ml/_ml__models.yml
## and the parameters table of docs/parameters.md (tests/unit/test_vars.py fails while one is stale).
generated: setup
	$(BIN)/python -m segmentation.vars

## The self-contained HTML report (and PNG figures) from the warehouse, into <warehouse>_report/.
report: setup
	$(BIN)/python -m segmentation.serving.report --database $(WAREHOUSE) --out $(WAREHOUSE_REPORT)

## The benchmark: dbt build on ../shared/data/cc_general.csv resampled to N customers
## (the project's generator where that file is missing) beside the plain notebook pipeline,
## plus two builds on the embedded demo data (a var changed, same vars); written to
## docs/benchmarks.md. By default every row of the targets but the last: the demo data,
## 1,000,000 customers (pca and autoencoder) and 10,000,000 (pca), about 15 minutes on 2
## cores. SIZES="100000" benchmarks those sizes only (TEN_MILLION=1 adds 10,000,000 to
## them); TEN_MILLION=0 skips it; REDUCERS="pca" skips the autoencoder builds;
## HUNDRED_MILLION=1 adds a pca build on 100,000,000 customers (no notebook; hours, and
## about 3 GB of Parquet plus the warehouse on disk).
TEN_MILLION ?= $(if $(SIZES),0,1)
bench: setup
	$(BIN)/python -m benchmarks.bench $(if $(SIZES),--sizes $(SIZES)) \
		$(if $(REDUCERS),--reducers $(REDUCERS)) $(if $(filter 1,$(TEN_MILLION)),--ten-million) \
		$(if $(filter 1,$(HUNDRED_MILLION)),--hundred-million)

## Segment quality: every holdout of the planted family (segmentation/planted.py) built with
## dbt beside the notebook method, scored by the adjusted Rand index against the planted
## groups, and cc_general (k = 3, random_seed 1 and 2); writes docs/quality.md (a few
## minutes on 2 cores). SHAPES="g3_plain g5_zero_balance" measures those holdouts only.
quality: setup
	$(BIN)/python -m benchmarks.quality $(if $(SHAPES),--shapes $(SHAPES))

## Read-only SQL on the published warehouse (WORKSPACE=1: on the last build's workspace).
query: setup
	@$(BIN)/python -m segmentation.serving.query --database $(WAREHOUSE) $(if $(WORKSPACE),--workspace) "$(SQL)"

## Switch readers back to the build published before the current one.
rollback: setup
	@$(BIN)/python -m segmentation.serving.publish rollback --database $(WAREHOUSE)

## The build readers get and the last publishes and rollbacks.
publish-status: setup
	@$(BIN)/python -m segmentation.serving.publish status --database $(WAREHOUSE)

## Regenerate the demo seed and its planted groups (deterministic: same files every time).
demo-data: setup
	$(BIN)/python -m segmentation.generator --rows 9000 \
		--out seeds/demo_customers.csv --groups-out tests/data/demo_customer_groups.csv

## Re-resolve requirements.in into requirements.txt in a scratch environment.
lock:
	rm -rf build/lock && $(PYTHON) -m venv build/lock
	build/lock/bin/python -m pip install --quiet --upgrade pip
	build/lock/bin/python -m pip install --quiet -r requirements.in
	{ echo "# Locked versions of everything in requirements.in (Python 3.11). Regenerate with"; \
	  echo "# 'make lock'; never edit by hand."; \
	  build/lock/bin/python -m pip freeze --all --exclude-editable | grep -v '^pip=='; } > requirements.txt
	rm -rf build/lock

## Re-resolve requirements-spark.in on top of requirements.txt into requirements-spark.txt.
lock-spark:
	rm -rf build/lock && $(PYTHON) -m venv build/lock
	build/lock/bin/python -m pip install --quiet --upgrade pip
	build/lock/bin/python -m pip install --quiet -r requirements.txt
	build/lock/bin/python -m pip freeze --all --exclude-editable | sort > build/base.txt
	build/lock/bin/python -m pip install --quiet -r requirements-spark.in -c requirements.txt
	{ echo "# Locked versions of requirements-spark.in (Python 3.11), installed on top of"; \
	  echo "# requirements.txt (whose pins they keep: pip install -c requirements.txt). Regenerate"; \
	  echo "# with 'make lock-spark'; never edit by hand."; \
	  build/lock/bin/python -m pip freeze --all --exclude-editable | sort | comm -13 build/base.txt -; } \
		> requirements-spark.txt
	rm -rf build/lock build/base.txt

clean:
	rm -rf target logs build .pytest_cache .ruff_cache
