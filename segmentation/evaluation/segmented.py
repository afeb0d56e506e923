"""Scored customers as the evaluation reads them: coordinates, segment and version.

The segmented customers are ``customer_features_reduced`` scored with the version in use
(:func:`segmentation.scoring.tables.scored_customers`: ``segment_id``, ``model_version``
and the components, the segments of ``customer_segments`` without a join).
:func:`segment_statistics` measures every segment over every customer in one query, and
:func:`sampled_values` reads a seeded sample of it for the scores that need rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation.engines import Engine
from segmentation.fit.steps import train_mask
from segmentation.scoring.model import COMPONENT_PREFIX, component_columns


def segmented_components(segmented: Engine) -> list[str]:
    """The component columns of the segmented customers, in component order."""
    return sorted(
        (column for column in segmented.columns() if column.startswith(COMPONENT_PREFIX)),
        key=lambda name: int(name.rsplit("_", 1)[1]),
    )


@dataclass(frozen=True)
class SegmentStatistics:
    """Over every customer: the segment ids found on train and their centroids (the means
    of their train members in the reduced space, row i for ``ids[i]``), and ``per_split``:
    per split and segment the customer count, the mean, 90th percentile (linear
    interpolation) and sum of squares (``inertia``) of the distance to the segment's
    train centroid, and the smallest ``model_version``."""

    ids: np.ndarray
    centroids: np.ndarray
    per_split: pd.DataFrame


def segment_statistics(segmented: Engine, components: list[str]) -> SegmentStatistics:
    """:class:`SegmentStatistics` in one query (two scans of the segmented customers)."""
    means = ", ".join(f"avg({column}) as {column}" for column in components)
    squares = " + ".join(f"(segmented.{c} - centroids.{c}) * (segmented.{c} - centroids.{c})" for c in components)
    # min() of a value that is the same on every row of the group: the segment's centroid.
    centroid_columns = ", ".join(f"min(centroids.{c}) as centroid_{c}" for c in components)
    stats = segmented.frame(
        f"with centroids as (select segment_id, {means} from {segmented.source} as segmented where split = 'train' "
        "group by segment_id) "
        "select segmented.split, segmented.segment_id, count(*) as customer_count, "
        f"avg(sqrt({squares})) as mean_distance_to_centroid, "
        f"{segmented.quantile(f'sqrt({squares})', 0.9)} as p90_distance_to_centroid, sum({squares}) as inertia, "
        f"min(segmented.model_version) as model_version, count(centroids.segment_id) > 0 as has_centroid, "
        f"{centroid_columns} "
        f"from {segmented.source} as segmented left join centroids using (segment_id) "
        "group by segmented.split, segmented.segment_id order by segmented.split, segmented.segment_id"
    )
    with_centroid = stats.loc[stats["has_centroid"]].drop_duplicates("segment_id").sort_values("segment_id")
    ids = with_centroid["segment_id"].to_numpy()
    centroids = with_centroid[[f"centroid_{c}" for c in components]].to_numpy(dtype=np.float64)
    return SegmentStatistics(ids, centroids.reshape(len(ids), len(components)), stats)


def sampled_values(sample: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reduced coordinates, segment_id and train mask of sampled segmented customers."""
    return (
        sample[component_columns(sample)].to_numpy(dtype=np.float64),
        sample["segment_id"].to_numpy(),
        train_mask(sample),
    )
