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
- :mod:`segmentation.query` - read-only SQL on the warehouse.
"""

__version__ = "0.1.0"
