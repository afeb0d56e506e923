"""The fit side: a new model version, fitted in Python on seeded samples.

:func:`segmentation.fit.procedure.update_registry` is what ``segmentation_models``
calls, on any engine (:mod:`segmentation.engines`): it reads a one-scan summary and a
seeded sample of the engineered features, fits ``StandardScaler -> reducer``
(:mod:`.reducers`, :mod:`.autoencoder`), picks k with the elbow method (:mod:`.elbow`),
fits k-means (:mod:`.steps`), numbers and names the segments (:mod:`.segment_ids`,
:mod:`.naming`) and returns the registry row (:mod:`.version_row`); whole-table counts
and quality are SQL aggregates of the rendered scoring SQL, run by the engine.
:mod:`.scores` holds the cluster scores, :mod:`.diagnostics` the fit's diagnostic tables
(PCA loadings, the reducer comparison). Imports the engines, the scoring side and the
shared modules, never serving.
"""
