"""``segment_quality``: per segment and split, how crisp or fuzzy the segment is."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.engines import Engine
from segmentation.evaluation.segmented import sampled_values, segment_statistics, segmented_components
from segmentation.fit.scores import segment_quality
from segmentation.params import SegmentationParams
from segmentation.tables import frame_to_arrow

SEGMENT_QUALITY_SCHEMA = pa.schema(
    [
        ("segment_id", pa.int32()),
        ("split", pa.string()),
        ("customer_count", pa.int64()),
        ("mean_silhouette", pa.float64()),
        ("mean_distance_to_centroid", pa.float64()),
        ("p90_distance_to_centroid", pa.float64()),
        ("inertia", pa.float64()),
        ("nearest_segment_id", pa.int32()),
        ("distance_to_nearest_centroid", pa.float64()),
    ]
)


def segment_quality_by_split(segmented: Engine, params: SegmentationParams) -> pa.Table:
    """One row per segment and split: how crisp the segment is (see
    :func:`segmentation.fit.scores.segment_quality`). Centroids are the means of the
    segment's train customers in the reduced space. Counts, distances and inertia (the
    sum of squared distances to the centroid) are over every customer (in the engine):
    ``segmentation_metrics`` adds them up per split instead of measuring every customer
    again. The mean silhouette on a seeded sample of at most ``silhouette_sample_size``
    customers of each split."""
    if segmented.is_empty():
        return SEGMENT_QUALITY_SCHEMA.empty_table()
    components = segmented_components(segmented)
    stats = segment_statistics(segmented, components)
    sample = segmented.split_samples([*components, "segment_id"], params.silhouette_sample_size, params.random_seed)
    values, segment_ids, is_train = sampled_values(sample)
    frames = []
    for split, mask in (("train", is_train), ("test", ~is_train)):
        quality = segment_quality(
            values[mask],
            segment_ids[mask],
            stats.centroids,
            stats.ids,
            params.silhouette_sample_size,
            params.random_seed,
        )
        frames.append(quality.assign(split=split))
    result = pd.concat(frames, ignore_index=True)
    # Sizes and distances over every customer, not the sample.
    exact = stats.per_split.set_index(["segment_id", "split"])
    keys = pd.MultiIndex.from_arrays([result["segment_id"], result["split"]])
    for column in ("customer_count", "mean_distance_to_centroid", "p90_distance_to_centroid", "inertia"):
        result[column] = exact[column].reindex(keys).to_numpy()
    result["customer_count"] = result["customer_count"].fillna(0).astype(np.int64)
    result["inertia"] = result["inertia"].fillna(0.0)  # no customer of the segment in that split
    result["nearest_segment_id"] = result["nearest_segment_id"].astype("Int32")
    return frame_to_arrow(result, SEGMENT_QUALITY_SCHEMA)
