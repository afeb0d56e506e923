"""Customer segmentation warehouse: the Python code behind the dbt project.

The dbt Python models in ``python_models/`` are thin adapters; the logic lives here so
that pytest can reach it:

- :mod:`segmentation.columns` - the raw column contract and the clustering features;
- :mod:`segmentation.generator` - the seeded synthetic demo customers;
- :mod:`segmentation.params` - validation of the parameters that reach Python models;
- :mod:`segmentation.relations` - data access: dbt relation in, Arrow/pandas out;
- :mod:`segmentation.pipeline` - scale -> reduce -> k-means, segment numbering.
"""

__version__ = "0.1.0"
