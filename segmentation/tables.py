"""Typed Arrow tables: what the Python models return when the result is built in Python."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa


def frame_to_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """A model's result as an Arrow table with exactly ``schema``'s columns and types.

    Writing typed Arrow (rather than pandas) fixes the warehouse column types, also for
    an empty result (``dbt build --empty``), where pandas would have no types to give.
    """
    if frame.empty:
        return schema.empty_table()
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
