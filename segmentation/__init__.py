"""Customer segmentation warehouse: the Python code behind the dbt project.

The dbt Python models in ``python_models/`` read their refs and config and call one entry
point each, in :mod:`segmentation.dbt_models`; the logic lives here so that pytest can
reach it. Sides, imports going one way (docs/architecture.md draws them;
tests/unit/test_layout.py keeps them):

- shared: :mod:`segmentation.columns` (the raw column contract, the clustering
  features), :mod:`segmentation.params` (the parameters that reach Python models),
  :mod:`segmentation.tables` (typed Arrow results), :mod:`segmentation.log` (progress
  lines in the dbt output);
- :mod:`segmentation.engines` - the databases behind one interface: DuckDB and Spark
  implement a few primitives (run a query, a lazy relation, a seeded hash, ...) and
  every procedure is written once against it;
- :mod:`segmentation.scoring` - apply a stored model version: the registry's format
  and reading (:mod:`~segmentation.scoring.registry`), the model as arrays
  (:mod:`~segmentation.scoring.model`), SQL rendered from it
  (:mod:`~segmentation.scoring.sql`), the per-customer tables
  (:mod:`~segmentation.scoring.tables`), transitions between versions
  (:mod:`~segmentation.scoring.transitions`);
- :mod:`segmentation.fit` - fit a new model version on seeded samples: the one
  procedure (:mod:`~segmentation.fit.procedure`), scaler and reducer
  (:mod:`~segmentation.fit.reducers`, :mod:`~segmentation.fit.autoencoder`), the elbow
  curve (:mod:`~segmentation.fit.elbow`), k-means and the small steps
  (:mod:`~segmentation.fit.steps`), segment ids and names
  (:mod:`~segmentation.fit.segment_ids`, :mod:`~segmentation.fit.naming`), the registry
  row (:mod:`~segmentation.fit.version_row`), cluster scores
  (:mod:`~segmentation.fit.scores`) and the fit diagnostics
  (:mod:`~segmentation.fit.diagnostics`);
- :mod:`segmentation.evaluation` - how good the build's segments are, on scored
  customers (``segmentation_metrics``, ``segment_quality``);
- :mod:`segmentation.serving` - what readers get: the atomic publish of a whole build
  (:mod:`~segmentation.serving.publish`), Parquet exports
  (:mod:`~segmentation.serving.exports`), the HTML report
  (:mod:`~segmentation.serving.report`), read-only SQL (:mod:`~segmentation.serving.query`);
- runners: :mod:`segmentation.generator` (seeded demo customers),
  :mod:`segmentation.planted` (the family of labelled holdouts with planted groups),
  :mod:`segmentation.spark_build` (the Python models on a local Spark). The benchmarks
  (``make bench``, ``make quality``) are not in the package: they live in ``benchmarks/``.

The package itself imports nothing heavy: the publish plugin dbt loads for every command
(even ``dbt parse``) imports only the standard library and DuckDB. The scientific libraries
are imported by :mod:`segmentation.dbt_models` (its docstring says why there).
"""

__version__ = "0.1.0"
