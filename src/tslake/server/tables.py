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
    registry columns are ignored.
    """
    length = _length(columns)
    data: dict[str, Any] = {}
    for column in dataset.columns:
        if column.name in columns:
            data[column.name] = columns[column.name]
        elif column.type == "string":
            data[column.name] = np.full(length, None, dtype=object)
        else:
            data[column.name] = np.full(length, np.nan)
    frame = pd.DataFrame(data, columns=dataset.column_names)
    return frame.astype({column.name: PANDAS_TYPES[column.type] for column in dataset.columns})


def empty_frame(dataset: Dataset) -> pd.DataFrame:
    """Return a frame with the dataset's columns and no rows."""
    return typed_frame(dataset, {})


def _length(columns: Mapping[str, Any]) -> int:
    for values in columns.values():
        return len(values)
    return 0
