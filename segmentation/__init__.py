"""Customer segmentation warehouse: the Python code behind the dbt project.

The dbt Python models in ``python_models/`` are thin adapters; the logic lives here so
that pytest can reach it:

- :mod:`segmentation.columns` - the raw column contract and the clustering features;
- :mod:`segmentation.generator` - the seeded synthetic demo customers;
- :mod:`segmentation.params` - validation of the parameters that reach Python models;
- :mod:`segmentation.relations` - data access: dbt relation in, Arrow/pandas out;
- :mod:`segmentation.reducers` - PCA, the autoencoder (:mod:`segmentation.autoencoder`)
  or none, after standard scaling;
- :mod:`segmentation.pipeline` - reduce, then k-means; segment numbering;
- :mod:`segmentation.elbow` - the elbow curve, its knee, the choice of k;
- :mod:`segmentation.metrics`, :mod:`segmentation.diagnostics` - quality measures and
  the diagnostic tables;
- :mod:`segmentation.log` - progress lines in the dbt output;
- :mod:`segmentation.segment_model`, :mod:`segmentation.registry`,
  :mod:`segmentation.naming` - scoring arrays, the model registry, segment names;
- :mod:`segmentation.exports` - atomic Parquet exports; :mod:`segmentation.report` - the
  HTML report;
- :mod:`segmentation.query` - read-only SQL on the warehouse.

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
