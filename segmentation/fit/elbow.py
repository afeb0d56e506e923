"""The elbow method: k-means for k = 1..elbow_max_k, the knee of the inertia curve.

The knee is found with the Kneedle method (Satopaa et al., 2011) for a convex, decreasing
curve, offline, sensitivity 1: :func:`find_knee` gives the same knee as the ``kneed``
package's ``KneeLocator(curve="convex", direction="decreasing", S=1.0)`` (the tests check
it on many curves) without importing it, because importing it is not cheap:
``import kneed`` takes 0.7 s after this package's imports, 2.2 s alone (matplotlib, PIL, scipy.signal: 197 modules).
When ``n_segments`` is ``auto`` the knee is the k in use. When the curve has no knee, the
documented fallback is the k >= 2 with the highest silhouette, and a warning says so in
the build output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.cluster import KMeans

from segmentation.fit.scores import clustering_scores, seeded_sample, silhouette_distances
from segmentation.fit.steps import train_mask
from segmentation.log import logger
from segmentation.params import SegmentationParams
from segmentation.scoring.model import component_columns
from segmentation.scoring.registry import ELBOW_SCHEMA
from segmentation.tables import frame_to_arrow

#: k-means restarts at each k of the elbow curve.
ELBOW_N_INIT = 2


def _local_extrema(values: np.ndarray, comparator: np.ufunc) -> np.ndarray:
    """Positions i where ``comparator(values[i], neighbour)`` holds for both neighbours
    (the ends compare with themselves), as ``scipy.signal.argrelextrema`` with order 1."""
    before = np.concatenate([values[:1], values[:-1]])
    after = np.concatenate([values[1:], values[-1:]])
    return np.flatnonzero(comparator(values, before) & comparator(values, after))


def find_knee(ks: np.ndarray, inertias: np.ndarray, sensitivity: float = 1.0) -> int | None:
    """The knee of a decreasing convex inertia curve (Kneedle), or None when there is none."""
    if len(ks) < 3:
        return None
    x = np.asarray(ks, dtype=float)
    y = np.asarray(inertias, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_normalized = (x - x.min()) / (x.max() - x.min())
        y_normalized = (y - y.min()) / (y.max() - y.min())
    # Convex and decreasing: flip y so the curve is concave and increasing.
    difference = (y_normalized.max() - y_normalized) - x_normalized
    maxima = _local_extrema(difference, np.greater_equal)
    minima = _local_extrema(difference, np.less_equal)
    if not maxima.size:
        return None
    thresholds = difference[maxima] - sensitivity * np.abs(np.diff(x_normalized).mean())
    threshold, threshold_index, n_maxima_seen, detecting = 0.0, 0, 0, True
    # Walk the difference curve from its first local maximum: the knee is the last local
    # maximum before the curve drops below that maximum's threshold.
    for i in range(int(maxima[0]), len(difference) - 1):
        if i in maxima:
            threshold, threshold_index = thresholds[n_maxima_seen], i
            n_maxima_seen += 1
            detecting = True
        if i in minima:
            threshold, detecting = 0.0, False
        if detecting and difference[i + 1] < threshold:
            return int(ks[threshold_index])
    return None


def elbow_ks(params: SegmentationParams, n_rows: int) -> np.ndarray:
    """k = 1 .. max(elbow_max_k, n_segments), at most the number of rows."""
    top = max(params.elbow_max_k, params.n_segments or 0)
    return np.arange(1, min(top, n_rows) + 1)


def elbow_curve(reduced_train: np.ndarray, params: SegmentationParams) -> pd.DataFrame:
    """One row per k: inertia on a seeded sample of the train rows (at most
    ``elbow_sample_size``), and for k >= 2 silhouette (on at most
    ``silhouette_sample_size`` rows), Davies-Bouldin and Calinski-Harabasz."""
    sample = reduced_train[seeded_sample(len(reduced_train), params.elbow_sample_size, params.random_seed)]
    rows = []
    ks = elbow_ks(params, len(sample))
    distances = silhouette_distances(sample, params.silhouette_sample_size, params.random_seed)
    for k in ks:
        model = KMeans(n_clusters=int(k), n_init=ELBOW_N_INIT, random_state=params.random_seed).fit(sample)
        scores = clustering_scores(
            sample, model.labels_, params.silhouette_sample_size, params.random_seed, distances=distances
        )
        rows.append({"k": int(k), "inertia": float(model.inertia_), **scores})
        logger.info(f"elbow k={k}/{ks[-1]}: inertia {model.inertia_:,.1f}, silhouette {scores['silhouette']:.3f}")
    return finish_elbow_curve(rows, params, len(sample))


def finish_elbow_curve(rows: list[dict], params: SegmentationParams, sample_size: int) -> pd.DataFrame:
    """The elbow table from one row per k (``k``, ``inertia`` and the clustering scores):
    the knee, the selected k, and the size of the sample it was measured on."""
    curve = pd.DataFrame(rows)
    knee = find_knee(curve["k"].to_numpy(), curve["inertia"].to_numpy())
    curve["is_knee"] = curve["k"] == knee
    selected = choose_n_segments(curve, params, knee)
    curve["is_selected"] = curve["k"] == selected
    curve["elbow_sample_size"] = sample_size
    return curve


def choose_n_segments(curve: pd.DataFrame, params: SegmentationParams, knee: int | None) -> int:
    """The k in use: ``n_segments`` when it is a number; for ``auto`` the knee, or the
    k >= 2 with the highest silhouette when there is no knee."""
    if params.n_segments is not None:
        return params.n_segments
    if knee is not None:
        logger.info(f"n_segments auto: the knee of the elbow curve is k={knee}")
        return knee
    candidates = curve[curve["k"] >= 2].dropna(subset=["silhouette"])
    if candidates.empty:
        logger.warning("n_segments auto: no knee and no silhouette to fall back on; using k=1")
        return 1
    best = int(candidates.loc[candidates["silhouette"].idxmax(), "k"])
    logger.warning(
        f"n_segments auto: the elbow curve has no knee; falling back to k={best}, the k with the highest silhouette"
    )
    return best


def elbow_table(reduced: pd.DataFrame, params: SegmentationParams) -> pa.Table:
    """The elbow curve of the train rows of ``customer_features_reduced``."""
    train = reduced.loc[train_mask(reduced), component_columns(reduced)].to_numpy(dtype=np.float64)
    curve = elbow_curve(train, params) if len(train) else pd.DataFrame()
    return frame_to_arrow(curve, ELBOW_SCHEMA)
