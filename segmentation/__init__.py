"""Customer segmentation warehouse: the Python code behind the dbt project.

The dbt Python models in ``python_models/`` are thin adapters; the logic lives here so
that pytest can reach it. Three sides, imports going one way (``fit`` may import
``scoring``; neither imports ``serving``; the shared modules import none of them):

- shared: :mod:`segmentation.columns` (the raw column contract, the clustering
  features), :mod:`segmentation.params` (the parameters that reach Python models),
  :mod:`segmentation.relations` (dbt relation in, Arrow/pandas out),
  :mod:`segmentation.log` (progress lines in the dbt output);
- :mod:`segmentation.scoring` - apply a stored model version: the registry's format
  and reading (:mod:`~segmentation.scoring.registry`), the model as arrays
  (:mod:`~segmentation.scoring.model`), SQL rendered from it
  (:mod:`~segmentation.scoring.sql`) and the relations the per-customer models return
  (:mod:`~segmentation.scoring.relations`, :mod:`~segmentation.scoring.spark`), the
  features as DuckDB reads them (:mod:`~segmentation.scoring.features`), transitions
  between versions (:mod:`~segmentation.scoring.transitions`);
- :mod:`segmentation.fit` - fit a new model version on seeded samples: scaler and
  reducer (:mod:`~segmentation.fit.reducers`, :mod:`~segmentation.fit.autoencoder`),
  the elbow curve (:mod:`~segmentation.fit.elbow`), k-means
  (:mod:`~segmentation.fit.pipeline`), segment ids and names
  (:mod:`~segmentation.fit.segment_ids`, :mod:`~segmentation.fit.naming`), the registry
  row (:mod:`~segmentation.fit.version_row`, :mod:`~segmentation.fit.versions`), the
  Spark MLlib fit (:mod:`~segmentation.fit.spark`), quality measures and diagnostic
  tables (:mod:`~segmentation.fit.metrics`, :mod:`~segmentation.fit.diagnostics`);
- :mod:`segmentation.serving` - what readers get: the atomic publish of a whole build
  (:mod:`~segmentation.serving.publish`), Parquet exports
  (:mod:`~segmentation.serving.exports`), the HTML report
  (:mod:`~segmentation.serving.report`), read-only SQL (:mod:`~segmentation.serving.query`);
- runners: :mod:`segmentation.generator` (seeded demo customers),
  :mod:`segmentation.spark_build` (the Python models on a local Spark). The benchmark
  (``make bench``) is not in the package: it lives in ``benchmarks/``.

dbt-duckdb runs the Python models in dbt's own process, two at a time (threads: 2). Two
threads importing SciPy for the first time at once can see a partially initialised module
(SciPy's submodules import each other), which failed a build with "cannot import name
'PytestTester' from partially initialized module". Every Python model imports this package
first, and Python lets one thread at a time run a package's ``__init__``, so the
scientific libraries the models use are imported here, once, before any model code runs.
TensorFlow is not among them: a PCA build never imports it.
"""

import scipy.optimize  # noqa: F401
import sklearn.cluster
import sklearn.decomposition
import sklearn.metrics
import sklearn.pipeline
import sklearn.preprocessing  # noqa: F401

__version__ = "0.1.0"
