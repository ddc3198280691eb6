"""Frames with the registry's column names, order and types, as every source returns them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tslake.registry import Dataset

# pandas dtype for each registry column type. "str" is pandas' string dtype, whose
# missing value is NaN.
PANDAS_TYPES: dict[str, str] = {"string": "str", "float64": "float64", "int64": "int64"}

# The date range that stands for "no limit" in queries.
EARLIEST_DAY = "00000000"
LATEST_DAY = "99991231"


def typed_frame(dataset: Dataset, columns: Mapping[str, Any]) -> pd.DataFrame:
    """Build a frame holding exactly the dataset's columns, in registry order and types.

    A registry column missing from ``columns`` is filled with nulls; keys that are not
    registry columns are ignored. Values are lists or numpy arrays.
    """
    length = _length(columns)
    data: dict[str, Any] = {}
    # Each column is converted before the frame is built, because DataFrame.astype
    # with a dict of types rebuilds the frame column by column, which is slow for the
    # 150 columns of balancesheet.
    for column in dataset.columns:
        values = columns.get(column.name)
        if column.type == "string":
            if values is None:
                values = np.full(length, None, dtype=object)
            data[column.name] = pd.array(np.asarray(values, dtype=object), dtype="str")
        elif column.type == "float64":
            data[column.name] = (
                np.full(length, np.nan) if values is None else np.asarray(values, dtype=np.float64)
            )
        elif values is None:
            # Integers have no null: this raises unless the frame has no rows.
            data[column.name] = pd.Series(np.full(length, np.nan)).astype("int64").to_numpy()
        else:
            data[column.name] = np.asarray(values, dtype=np.int64)
    return pd.DataFrame(data, columns=dataset.column_names)


def empty_frame(dataset: Dataset) -> pd.DataFrame:
    """Return a frame with the dataset's columns and no rows."""
    return typed_frame(dataset, {})


def _length(columns: Mapping[str, Any]) -> int:
    for values in columns.values():
        return len(values)
    return 0
