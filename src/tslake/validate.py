"""Checks of what the API returned, before a day is recorded as covered.

* Completeness: a whole-market day with clearly fewer rows than listed
  symbols (minus known suspensions) is a half-published day.
* Values: rows that break basic invariants (high < low, close outside
  [low, high], negative volume, non-positive adjustment factor, negative
  share counts), rows on days the trading calendar marks as closed, and
  duplicate keys inside one response.

Findings are counted per dataset and kept in the part's notes, so reports and
`snakemake validate` can show them; rows are never dropped silently.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tslake.registry import Dataset

log = logging.getLogger(__name__)

# Chinese names of the finding kinds, for logs and reports.
FINDING_NAMES = {
    "high_below_low": "最高价低于最低价",
    "close_outside_range": "收盘价不在最低价与最高价之间",
    "negative_volume": "成交量为负",
    "nonpositive_adj_factor": "复权因子不为正",
    "negative_share": "股本或市值为负",
    "closed_day_row": "日期不是交易日",
    "duplicate_key": "同一响应内主键重复",
}
EXAMPLES_KEPT = 5


@dataclass(frozen=True)
class ShortDay:
    """A whole-market day that returned clearly fewer rows than expected."""

    day: str
    expected: int
    received: int

    def to_json(self) -> dict[str, object]:
        return {"day": self.day, "expected": self.expected, "received": self.received}


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce")


def _invariant_masks(dataset: Dataset, frame: pd.DataFrame) -> dict[str, pd.Series]:
    columns = set(frame.columns)
    masks: dict[str, pd.Series] = {}
    if {"high", "low"} <= columns:
        high, low = _numeric(frame, "high"), _numeric(frame, "low")
        masks["high_below_low"] = high < low
        if "close" in columns:
            close = _numeric(frame, "close")
            masks["close_outside_range"] = (close < low) | (close > high)
    if "vol" in columns:
        masks["negative_volume"] = _numeric(frame, "vol") < 0
    if "adj_factor" in columns:
        masks["nonpositive_adj_factor"] = _numeric(frame, "adj_factor") <= 0
    shares = [
        name
        for name in ("total_share", "float_share", "free_share", "total_mv", "circ_mv")
        if name in columns
    ]
    if shares:
        masks["negative_share"] = (frame[shares].apply(pd.to_numeric, errors="coerce") < 0).any(
            axis=1
        )
    return masks


def check_values(
    dataset: Dataset, frame: pd.DataFrame, open_days: np.ndarray
) -> dict[str, dict[str, object]]:
    """Return, per finding kind, the count and a few example keys of the rows that break it.

    `frame` is one unit's combined response, before duplicates are removed;
    `open_days` are the sorted open days of the trading calendar.
    """
    findings: dict[str, dict[str, object]] = {}
    if frame.empty:
        return findings
    masks = _invariant_masks(dataset, frame)
    # Announcements can fall on weekends, so only trading-day datasets are checked.
    date_column = dataset.date_column if dataset.kind == "daily" else None
    if date_column and date_column in frame.columns:
        dates = frame[date_column].astype(str).to_numpy(dtype=object)
        positions = np.searchsorted(open_days, dates)
        inside = positions < len(open_days)
        is_open = np.zeros(len(dates), dtype=bool)
        is_open[inside] = open_days[positions[inside]] == dates[inside]
        masks["closed_day_row"] = pd.Series(~is_open, index=frame.index)
    key = [column for column in dataset.key if column in frame.columns]
    if len(key) == len(dataset.key):
        masks["duplicate_key"] = frame.duplicated(subset=key, keep="first")
    for kind, mask in masks.items():
        hits = frame[mask.fillna(False).astype(bool)]
        if hits.empty:
            continue
        examples = (
            hits[key].head(EXAMPLES_KEPT).astype(str).agg("/".join, axis=1).tolist() if key else []
        )
        findings[kind] = {"count": len(hits), "examples": examples}
        log.warning(
            "接口 %s：%d 行%s（已保留并记录），例如 %s",
            dataset.api,
            len(hits),
            FINDING_NAMES[kind],
            examples,
        )
    return findings


def short_days(
    rows_per_day: dict[str, int],
    expected_per_day: dict[str, int],
    tolerance: float,
) -> list[ShortDay]:
    """Return the days whose row count is below (1 - tolerance) of the expected count."""
    short = []
    for day, expected in sorted(expected_per_day.items()):
        received = rows_per_day.get(day, 0)
        if expected > 0 and received < (1.0 - tolerance) * expected:
            short.append(ShortDay(day, expected, received))
    return short


def merge_findings(findings: Iterable[dict[str, dict[str, object]]]) -> dict[str, int]:
    """Add up finding counts by kind."""
    totals: dict[str, int] = {}
    for item in findings:
        for kind, value in item.items():
            totals[kind] = totals.get(kind, 0) + int(value["count"])
    return totals
