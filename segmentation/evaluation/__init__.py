"""The evaluation side: how good the segments of a build are, measured on scored customers.

:mod:`.segmented` joins every customer's reduced coordinates to its segment and computes
the per-segment statistics over every customer in one engine query;
:mod:`.metrics` writes ``segmentation_metrics`` (one row per build: sizes, inertia,
silhouette, Davies-Bouldin, Calinski-Harabasz on train and test, the generalisation
score) and :mod:`.quality` ``segment_quality`` (one row per segment and split). Reads
scored customers through an engine (:mod:`segmentation.engines`); imports the fit side's
k-means and scores, never serving.
"""
