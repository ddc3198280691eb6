"""How data and schema faults change the table of a successful response.

Every function returns a new frame and leaves its input alone, so the source's
tables stay clean. Choices that look random (which rows, which cells) come from a
CRC-32 of the row's key, so the same request gets the same response every time.

Data faults get the rows before the row cap, in the server's order: daily datasets
newest first (date descending, then ts_code ascending), stock_basic by ts_code,
trade_cal newest first. For a long response the server may pass only the newest
whole days, so every fault changes a day's rows without looking at older days, and
the faults that pick rows pick the first (newest) ones.
"""

from __future__ import annotations

import logging
import numbers
import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from tslake.server.calendar import TradingCalendar
from tslake.server.faults import FaultRule

logger = logging.getLogger(__name__)

# Columns that identify a row, used to pick cells for the nulls fault.
ROW_KEY_COLUMNS = ("ts_code", "trade_date", "exchange", "cal_date")

# Order of the schema faults, whatever the rule order: nulls must see numbers
# before numbers_as_strings turns them into text.
SCHEMA_ORDER = ("drop_column", "extra_column", "nulls", "numbers_as_strings", "empty")


def apply_data_faults(
    frame: pd.DataFrame, api: str, rules: Sequence[FaultRule], calendar: TradingCalendar
) -> pd.DataFrame:
    """Apply the data faults among ``rules`` to the rows of one response, in rule order."""
    for rule in rules:
        options = rule.options
        if rule.kind == "partial_day":
            frame = keep_share_per_day(frame, options["share"])
        elif rule.kind == "drop_symbols":
            frame = frame.loc[~frame["ts_code"].isin(options["codes"])]
        elif rule.kind == "bad_values":
            frame = corrupt_values(frame, api, options["rows"])
        elif rule.kind == "closed_day_row":
            frame = add_closed_day_row(frame, options["date"], calendar)
        elif rule.kind == "duplicate_row":
            frame = pd.concat([frame.iloc[:1], frame])
        elif rule.kind == "bad_code":
            frame = add_bad_code_row(frame, api, options["code"])
    return frame.reset_index(drop=True)


def apply_schema_faults(frame: pd.DataFrame, rules: Sequence[FaultRule]) -> pd.DataFrame:
    """Apply the schema faults among ``rules`` to the table of one response, in SCHEMA_ORDER."""
    for kind in SCHEMA_ORDER:
        for rule in rules:
            if rule.kind == kind:
                frame = _apply_schema_fault(frame, rule)
    return frame


def _apply_schema_fault(frame: pd.DataFrame, rule: FaultRule) -> pd.DataFrame:
    options = rule.options
    if rule.kind == "drop_column":
        name = options["name"]
        if name not in frame.columns:
            logger.warning("故障 drop_column：响应中没有列 %s，响应不变", name)
            return frame
        return frame.drop(columns=[name])
    if rule.kind == "extra_column":
        name = options["name"]
        if name in frame.columns:
            logger.warning("故障 extra_column：响应中已有列 %s，响应不变", name)
            return frame
        values = np.full(len(frame), options["value"], dtype=object)
        return frame.assign(**{name: values})
    if rule.kind == "nulls":
        return null_some_numbers(frame, options["share"])
    if rule.kind == "numbers_as_strings":
        return numbers_as_strings(frame)
    return frame.iloc[:0]


def unit_hash(text: str) -> float:
    """Return a stable number in [0, 1) for ``text`` (CRC-32, unlike Python's salted hash)."""
    return zlib.crc32(text.encode("utf-8")) / 2**32


def keep_share_per_day(frame: pd.DataFrame, share: float) -> pd.DataFrame:
    """Keep ``floor(share * n)`` of the ``n`` rows of each trade_date, the same stocks every day.

    A stock is kept when its ts_code hashes low among the codes of that day, so a
    share below 1 always drops at least one row of each day.
    """
    if frame.empty:
        return frame
    order = pd.DataFrame(
        {
            "day": frame["trade_date"].to_numpy(),
            "hash": frame["ts_code"].map(unit_hash).to_numpy(dtype=float),
            "code": frame["ts_code"].to_numpy(),
        },
        index=frame.index,
    )
    ranked = order.sort_values(["hash", "code"], kind="stable")
    rank = ranked.groupby("day", sort=False).cumcount().reindex(frame.index)
    day_size = order.groupby("day")["code"].transform("size")
    # The small epsilon keeps 0.29 * 100 from rounding down to 28.
    kept_per_day = np.floor(day_size * share + 1e-9)
    return frame.loc[rank < kept_per_day]


def corrupt_values(frame: pd.DataFrame, api: str, rows: int) -> pd.DataFrame:
    """Make the first ``rows`` rows impossible for their dataset.

    daily: high below low, close above both, negative vol. adj_factor: 0 and
    negative factors in turn. daily_basic: negative total_share.
    """
    frame = frame.copy()
    chosen = frame.index[:rows]
    if api == "daily":
        low = frame.loc[chosen, "low"].fillna(10.0)
        frame.loc[chosen, "low"] = low
        frame.loc[chosen, "high"] = np.minimum((low * 0.9).round(2), low - 0.01)
        frame.loc[chosen, "close"] = (low * 1.2 + 0.01).round(2)
        frame.loc[chosen, "vol"] = -frame.loc[chosen, "vol"].abs().fillna(0.0).clip(lower=1.0)
    elif api == "adj_factor":
        factors = frame.loc[chosen, "adj_factor"].abs().fillna(1.0).to_numpy()
        factors = np.where(np.arange(len(factors)) % 2 == 0, 0.0, -factors)
        frame.loc[chosen, "adj_factor"] = factors
    elif api == "daily_basic":
        shares = frame.loc[chosen, "total_share"].abs().fillna(0.0).clip(lower=1.0)
        frame.loc[chosen, "total_share"] = -shares
    return frame


def next_closed_day(calendar: TradingCalendar, day: str) -> str | None:
    """Return the first closed day after ``day``; None when the calendar ends first."""
    start = int(np.searchsorted(calendar.days, int(day), side="right"))
    closed = np.flatnonzero(~calendar.is_open[start:])
    if closed.size == 0:
        return None
    return str(calendar.days[start + int(closed[0])])


def add_closed_day_row(
    frame: pd.DataFrame, day: str | None, calendar: TradingCalendar
) -> pd.DataFrame:
    """Add a copy of the newest row dated ``day``, by default the first closed day after it."""
    if frame.empty:
        logger.warning("故障 closed_day_row：响应没有行可复制，响应不变")
        return frame
    if day is None:
        day = next_closed_day(calendar, str(frame["trade_date"].iloc[0]))
        if day is None:
            logger.warning("故障 closed_day_row：交易日历中最新一行之后没有休市日，响应不变")
            return frame
    extra = frame.iloc[:1].copy()
    extra["trade_date"] = day
    return _daily_order(pd.concat([frame, extra]))


def add_bad_code_row(frame: pd.DataFrame, api: str, code: str) -> pd.DataFrame:
    """Add a copy of the first row with ts_code ``code``; for stock_basic also a matching symbol."""
    if frame.empty:
        logger.warning("故障 bad_code：响应没有行可复制，响应不变")
        return frame
    extra = frame.iloc[:1].copy()
    extra["ts_code"] = code
    if api == "stock_basic":
        extra["symbol"] = code.rsplit(".", 1)[0]
        return pd.concat([frame, extra]).sort_values("ts_code", kind="stable")
    return _daily_order(pd.concat([frame, extra]))


def _daily_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort rows newest first, then by ts_code, keeping equal rows in their order."""
    return frame.sort_values(["trade_date", "ts_code"], ascending=[False, True], kind="stable")


def null_some_numbers(frame: pd.DataFrame, share: float) -> pd.DataFrame:
    """Set about ``share`` of the numeric cells to null, chosen by a hash of row key and column.

    With a share above 0, at least one cell is nulled when the table has a numeric
    cell. Columns with numbers become object columns so that integers stay integers.
    """
    columns = _number_columns(frame)
    if frame.empty or not columns or share <= 0:
        return frame
    keys = _row_keys(frame)
    chosen = {
        name: np.array([unit_hash(f"{key}|{name}") < share for key in keys], dtype=bool)
        for name in columns
    }
    if not any(mask.any() for mask in chosen.values()):
        chosen[columns[0]][0] = True
    frame = frame.copy()
    for name, mask in chosen.items():
        values = frame[name].to_numpy(dtype=object, na_value=None)
        values[mask] = None
        frame[name] = pd.Series(values, index=frame.index, dtype=object)
    return frame


def numbers_as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn every numeric value into its text, as in "12.34"; text, booleans and nulls stay."""
    frame = frame.copy()
    for name in _number_columns(frame):
        values = frame[name].to_numpy(dtype=object, na_value=None)
        texts = [str(value) if _is_number(value) else value for value in values]
        frame[name] = pd.Series(texts, index=frame.index, dtype=object)
    return frame


def _is_number(value: object) -> bool:
    """Return whether a cell contains a number; NaN counts, booleans do not."""
    return isinstance(value, numbers.Number) and not isinstance(value, bool | np.bool_)


def _number_columns(frame: pd.DataFrame) -> list[str]:
    """Return the columns with numbers: numeric dtypes, and object columns with a number."""
    columns = []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            continue
        if pd.api.types.is_numeric_dtype(column):
            columns.append(name)
        elif column.dtype == object and any(_is_number(value) for value in column):
            columns.append(name)
    return columns


def _row_keys(frame: pd.DataFrame) -> list[str]:
    """Return a text key per row from its key columns; the row position when it has none."""
    columns = [name for name in ROW_KEY_COLUMNS if name in frame.columns]
    if not columns:
        return [str(position) for position in range(len(frame))]
    keys = frame[columns[0]].astype(str)
    for name in columns[1:]:
        keys = keys + "|" + frame[name].astype(str)
    return keys.tolist()
