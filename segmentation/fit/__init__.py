"""The fit side: a new model version, fitted in Python on seeded samples.

:func:`segmentation.fit.versions.update_registry` is what ``segmentation_models`` calls:
it reads a one-scan summary and a seeded sample of the engineered features through DuckDB
(:mod:`segmentation.scoring.features`), fits ``StandardScaler -> reducer``
(:mod:`.reducers`, :mod:`.autoencoder`), picks k with the elbow method (:mod:`.elbow`),
fits k-means (:mod:`.pipeline`), numbers and names the segments (:mod:`.segment_ids`,
:mod:`.naming`) and returns the registry row (:mod:`.version_row`); whole-table counts
and quality are SQL aggregates of the rendered scoring SQL. On Spark the same steps run
with MLlib (:mod:`.spark`). :mod:`.metrics` and :mod:`.diagnostics` measure the fit
(diagnostic tables). Imports the scoring side and the shared modules, never serving.
"""
