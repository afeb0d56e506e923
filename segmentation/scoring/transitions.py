"""How customers move between the two latest stored model versions.

Both versions score the current customers with the rendered SQL, and the engine counts the
(from segment, to segment) pairs: the ``segment_transitions`` table.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from segmentation.engines import Engine
from segmentation.log import logger
from segmentation.scoring.registry import load_model, segment_names
from segmentation.scoring.sql import score_select
from segmentation.tables import frame_to_arrow

TRANSITIONS_SCHEMA = pa.schema(
    [
        ("from_model_version", pa.int32()),
        ("from_segment_id", pa.int32()),
        ("from_segment_name", pa.string()),
        ("to_model_version", pa.int32()),
        ("to_segment_id", pa.int32()),
        ("to_segment_name", pa.string()),
        ("customer_count", pa.int64()),
        ("share_of_from_segment", pa.float64()),
    ]
)


def segment_transitions(features: Engine, registry: pd.DataFrame) -> pa.Table:
    """How the current customers move between the two latest stored versions: each is
    scored with both (by the engine, with the rendered SQL) and the pairs (from segment,
    to segment) are counted. Empty with fewer than two versions."""
    if len(registry) < 2 or features.is_empty():
        return TRANSITIONS_SCHEMA.empty_table()
    older, newer = sorted(int(version) for version in registry["model_version"])[-2:]
    available = set(features.columns())
    missing = [name for name in load_model(registry, older).features if name not in available]
    if missing:
        # A version fitted on features the project no longer computes (they were renamed
        # or removed since) cannot score today's customers: no transitions to show.
        logger.warning(
            f"segment transitions {older} -> {newer}: version {older} clusters features the feature table no "
            f"longer has {missing}; segment_transitions is empty until two versions share their features"
        )
        return TRANSITIONS_SCHEMA.empty_table()
    scored = {
        version: score_select(load_model(registry, version), features.source, version, segment_names(registry, version))
        for version in (older, newer)
    }
    counts = features.frame(
        "select older.segment_id as from_segment_id, newer.segment_id as to_segment_id, count(*) as customer_count "
        f"from ({scored[older]}) as older inner join ({scored[newer]}) as newer using (customer_id) "
        "group by older.segment_id, newer.segment_id order by from_segment_id, to_segment_id"
    )
    from_totals = counts.groupby("from_segment_id")["customer_count"].transform("sum")
    counts["share_of_from_segment"] = counts["customer_count"] / from_totals
    counts["from_model_version"] = older
    counts["to_model_version"] = newer
    counts["from_segment_name"] = counts["from_segment_id"].map(segment_names(registry, older))
    counts["to_segment_name"] = counts["to_segment_id"].map(segment_names(registry, newer))
    kept = counts.loc[counts["from_segment_id"] == counts["to_segment_id"], "customer_count"].sum()
    logger.info(
        f"segment transitions {older} -> {newer}: "
        f"{kept / counts['customer_count'].sum():.1%} of customers keep their segment_id"
    )
    return frame_to_arrow(counts, TRANSITIONS_SCHEMA)
