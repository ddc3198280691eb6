"""A MarketSource that serves recorded real Tushare tables from a directory.

The directory has one folder per dataset (stock_basic, trade_cal, daily, adj_factor,
daily_basic, suspend_d, income, balancesheet, cashflow, fina_indicator, dividend,
disclosure_date; other folders are ignored) holding any number of files of two kinds:

* ``*.csv``: a table a user saved with pandas after calling the API. Files may be in
  any row order, use CRLF line endings, start with a UTF-8 BOM, carry a prefix on
  every column name (``indiv_din_ts_code``), lack columns (stock_basic's
  list_status, exchange and delist_date) or write dates as plain numbers.
* ``*.json``: a raw Tushare HTTP response ``{"code", "msg" or "message", "data":
  {"fields", "items"}, ...}``; other top-level keys are ignored.

Rows of one dataset are combined and deduplicated on the registry key. Recorded
``update_flag`` values are served as recorded. The served
trade_cal is the SSE calendar from exchange_calendars; recorded calendar rows and
recorded trading days are only checked against it.
"""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from tslake.registry import DATASETS, Dataset
from tslake.server.calendar import TradingCalendar, sse_calendar
from tslake.server.financial_queries import (
    DIVIDEND_API,
    FINANCIAL_APIS,
    EventQuery,
    ReportQuery,
    select_disclosures,
    select_dividends,
    select_reports,
)
from tslake.server.source import (
    DATED_APIS,
    SERVED_APIS,
    SUSPEND_API,
    MarketSource,
    check_dataset,
    stock_basic_as_of,
)
from tslake.server.tables import PANDAS_TYPES, empty_frame

logger = logging.getLogger(__name__)

EXCHANGE_BY_SUFFIX = {"SH": "SSE", "SZ": "SZSE", "BJ": "BSE"}

# Examples shown in a warning about many rows.
EXAMPLES_SHOWN = 5


class ReplayError(ValueError):
    """A recorded file that cannot be read as a table of its dataset."""


class ReplaySource(MarketSource):
    """Serve exactly the rows recorded under ``root``; see the module docstring."""

    def __init__(self, root: Path, tables: dict[str, pd.DataFrame], calendar: TradingCalendar):
        self.root = root
        self.calendar = calendar
        self._tables = tables

    @classmethod
    def load(cls, root: Path | str, calendar_end: date | None = None) -> ReplaySource:
        """Read every recorded file under ``root``; raise ReplayError on a file it cannot read."""
        root = Path(root)
        if not root.is_dir():
            raise ReplayError(f"回放目录不存在：{root}")
        calendar = sse_calendar(calendar_end)
        tables = {}
        for name in SERVED_APIS:
            dataset = DATASETS[name]
            frames = [read_recorded_file(path, dataset) for path in _dataset_files(root / name)]
            tables[name] = _combine(dataset, frames)
            logger.info("回放数据 %s：%d 个文件，%d 行", name, len(frames), len(tables[name]))
        _check_calendar(calendar, tables)
        return cls(root, tables, calendar)

    @property
    def description(self) -> str:
        return f"回放录制的数据，目录 {self.root}"

    def recorded(self, name: str) -> pd.DataFrame:
        """Return the combined recorded rows of ``name`` (for trade_cal: only the recorded days)."""
        return self._tables[name].copy()

    def stock_basic(self, as_of: str | None = None) -> pd.DataFrame:
        frame = self._tables["stock_basic"]
        if as_of is None:
            return frame.copy()
        return stock_basic_as_of(frame, as_of)

    def daily_rows(
        self,
        dataset: str,
        codes: Sequence[str] | None,
        first: str,
        last: str,
        limit: int | None,
    ) -> pd.DataFrame:
        check_dataset(dataset)
        frame = self._tables[dataset]
        dates = frame["trade_date"]
        selected = (dates >= first) & (dates <= last)
        if codes is not None:
            selected &= frame["ts_code"].isin(list(codes))
        rows = frame.loc[selected]
        if limit is not None:
            rows = rows.head(limit)
        return rows.reset_index(drop=True)

    def suspend_rows(
        self,
        codes: Sequence[str] | None,
        first: str,
        last: str,
        suspend_type: str | None,
        limit: int | None,
    ) -> pd.DataFrame:
        frame = self._tables[SUSPEND_API]
        dates = frame["trade_date"]
        selected = (dates >= first) & (dates <= last)
        if codes is not None:
            selected &= frame["ts_code"].isin(list(codes))
        if suspend_type is not None:
            selected &= frame["suspend_type"] == suspend_type
        rows = frame.loc[selected]
        if limit is not None:
            rows = rows.head(limit)
        return rows.reset_index(drop=True)

    def report_rows(self, api: str, query: ReportQuery, visible_through: str) -> pd.DataFrame:
        return select_reports(self._tables[api], api, query, visible_through, set_flags=False)

    def report_codes(self, api: str) -> list[str]:
        return sorted(self._tables[api]["ts_code"].unique())

    def event_rows(self, api: str, query: EventQuery, visible_through: str) -> pd.DataFrame:
        if api == DIVIDEND_API:
            return select_dividends(self._tables[api], query, visible_through)
        return select_disclosures(self._tables[api], query, visible_through)


def _dataset_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    files = [
        path
        for path in sorted(folder.iterdir())
        if path.is_file() and path.suffix.lower() in (".csv", ".json")
    ]
    return files


def read_recorded_file(path: Path, dataset: Dataset) -> pd.DataFrame:
    """Read one recorded CSV or JSON file as a frame with the dataset's columns and types."""
    is_json = path.suffix.lower() == ".json"
    raw = _read_json_response(path) if is_json else _read_csv_text(path)
    raw = _rename_to_registry(raw, dataset, path)
    return _to_registry_types(raw, dataset, path)


def _read_csv_text(path: Path) -> pd.DataFrame:
    """Read a CSV with every cell as a string; only empty cells are null."""
    # utf-8-sig drops a leading BOM; the parser accepts LF and CRLF line endings.
    text = path.read_bytes().decode("utf-8-sig")
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])


def _read_json_response(path: Path) -> pd.DataFrame:
    """Read the ``data`` table of a recorded Tushare response; raise ReplayError otherwise."""
    try:
        response = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise ReplayError(f"{path}：不是有效的 JSON（{error}）") from None
    if not isinstance(response, dict) or response.get("code") != 0:
        code = response.get("code") if isinstance(response, dict) else None
        raise ReplayError(f"{path}：录制的不是成功的 Tushare 响应（code={code!r}）")
    data = response.get("data")
    if not isinstance(data, dict) or "fields" not in data or "items" not in data:
        raise ReplayError(f"{path}：响应缺少 data.fields 或 data.items")
    return pd.DataFrame(data["items"], columns=data["fields"], dtype=object)


def _rename_to_registry(frame: pd.DataFrame, dataset: Dataset, path: Path) -> pd.DataFrame:
    """Strip a prefix that every column name shares, then drop columns the registry lacks.

    The prefix ends at an underscore and is stripped only if the stripped names are
    registry columns; ``indiv_din_ts_code`` becomes ``ts_code``.
    """
    known = set(dataset.column_names)
    names = [str(name).strip() for name in frame.columns]
    if not known.intersection(names):
        prefix = os.path.commonprefix(names)
        while prefix:
            cut = prefix.rfind("_")
            if cut < 0:
                break
            prefix = prefix[: cut + 1]
            stripped = [name[len(prefix) :] for name in names]
            if set(stripped) <= known:
                names = stripped
                break
            prefix = prefix[:cut]
    frame = frame.set_axis(names, axis="columns")
    unknown = [name for name in names if name not in known]
    if unknown:
        logger.warning("%s：忽略登记表中没有的列 %s", path, ", ".join(unknown))
    missing_keys = [key for key in dataset.key if key not in names and key != "exchange"]
    if missing_keys:
        raise ReplayError(f"{path}：缺少主键列 {', '.join(missing_keys)}")
    return frame[[name for name in names if name in known]]


def _to_registry_types(frame: pd.DataFrame, dataset: Dataset, path: Path) -> pd.DataFrame:
    """Convert every column to its registry type; dates always become YYYYMMDD strings."""
    columns = {}
    for column in dataset.columns:
        if column.name not in frame.columns:
            continue
        values = frame[column.name]
        try:
            if column.type == "string":
                columns[column.name] = values.map(_as_text, na_action="ignore").astype("str")
            elif column.type == "float64":
                columns[column.name] = pd.to_numeric(values).astype("float64")
            else:
                columns[column.name] = pd.to_numeric(values).astype("int64")
        except (ValueError, TypeError) as error:
            raise ReplayError(
                f"{path}：列 {column.name} 无法转换为 {column.type}：{error}"
            ) from None
    result = pd.DataFrame(columns, index=frame.index)
    for column in dataset.columns:
        if column.name not in result.columns:
            result[column.name] = pd.Series(np.nan, index=result.index).astype(
                PANDAS_TYPES[column.type]
            )
    return result[dataset.column_names].reset_index(drop=True)


def _as_text(value: object) -> str:
    """Return a cell as text; a date read as a number (20220701 or 20220701.0) keeps 8 digits."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        return text[:-2]
    return text


def _combine(dataset: Dataset, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate the files of one dataset, fill implied values and drop duplicate keys."""
    if not frames:
        return empty_frame(dataset)
    frame = pd.concat(frames, ignore_index=True)
    if dataset.name == "stock_basic":
        return _combine_stock_basic(frame)
    if dataset.name == "trade_cal":
        frame["exchange"] = frame["exchange"].fillna("SSE")
        frame = frame.sort_values("cal_date", ascending=False, kind="stable")
        return frame.drop_duplicates(list(dataset.key)).reset_index(drop=True)

    if dataset.name in FINANCIAL_APIS:
        return _combine_financial(dataset, frame)

    frame = frame.dropna(subset=list(dataset.key))
    frame = frame.sort_values(
        ["trade_date", "ts_code"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)
    duplicated = frame.duplicated(list(dataset.key))
    if duplicated.any():
        logger.info("回放数据 %s：去掉 %d 行重复记录", dataset.name, int(duplicated.sum()))
    return frame.loc[~duplicated].reset_index(drop=True)


def _combine_financial(dataset: Dataset, frame: pd.DataFrame) -> pd.DataFrame:
    """Drop rows without a code and rows recorded twice; the queries sort the rest.

    Key columns may be null here: disclosure_date has no actual_date before a report
    comes out.
    """
    frame = frame.dropna(subset=["ts_code"])
    duplicated = frame.duplicated(list(dataset.key))
    if duplicated.any():
        logger.info("回放数据 %s：去掉 %d 行重复记录", dataset.name, int(duplicated.sum()))
    return frame.loc[~duplicated].reset_index(drop=True)


def _combine_stock_basic(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep one row per ts_code, preferring the row with more non-null fields.

    Rows recorded without list_status, exchange or delist_date are listed stocks
    (pro.stock_basic returns ``L`` by default); the exchange follows the code suffix.
    """
    frame = frame.dropna(subset=["ts_code"]).copy()
    frame["list_status"] = frame["list_status"].fillna("L")
    suffix = frame["ts_code"].str.rsplit(".", n=1).str[-1]
    frame["exchange"] = frame["exchange"].fillna(suffix.map(EXCHANGE_BY_SUFFIX))
    filled = frame.notna().sum(axis="columns")
    frame = frame.assign(_filled=filled).sort_values(
        ["ts_code", "_filled"], ascending=[True, False], kind="stable"
    )
    frame = frame.drop_duplicates("ts_code").drop(columns="_filled")
    return frame.reset_index(drop=True)


def _check_calendar(calendar: TradingCalendar, tables: dict[str, pd.DataFrame]) -> None:
    """Log a warning for every way the recordings disagree with the derived calendar."""
    derived = calendar.frame("SSE").set_index("cal_date")
    recorded = tables["trade_cal"]
    recorded = recorded[recorded["exchange"].isin(["SSE", "SZSE"])]
    outside = ~recorded["cal_date"].isin(derived.index)
    if outside.any():
        _warn("录制的交易日历有日期不在推导的上交所日历范围内", recorded.loc[outside, "cal_date"])
    inside = recorded.loc[~outside]
    expected = derived.loc[inside["cal_date"]]
    wrong_open = inside["is_open"].to_numpy() != expected["is_open"].to_numpy()
    if wrong_open.any():
        _warn(
            "录制的交易日历与 exchange_calendars XSHG 的开市状态不一致",
            inside.loc[wrong_open, "cal_date"],
        )
    recorded_pretrade = inside["pretrade_date"].to_numpy(dtype=object, na_value=None)
    expected_pretrade = expected["pretrade_date"].to_numpy(dtype=object, na_value=None)
    has_pretrade = np.array([value is not None for value in recorded_pretrade], dtype=bool)
    wrong_pretrade = has_pretrade & (recorded_pretrade != expected_pretrade)
    if wrong_pretrade.any():
        _warn(
            "录制的交易日历的 pretrade_date 与推导的日历不一致",
            inside.loc[wrong_pretrade, "cal_date"],
        )

    open_days = set(calendar.session_strings)
    for name in DATED_APIS:
        dates = pd.Series(tables[name]["trade_date"].unique())
        closed = dates[~dates.isin(open_days)]
        if not closed.empty:
            _warn(f"回放数据 {name} 有日期不是上交所交易日", closed)


def _warn(message: str, days: pd.Series) -> None:
    examples = ", ".join(sorted(days.astype(str))[:EXAMPLES_SHOWN])
    logger.warning("%s：%d 天，例如 %s", message, len(days), examples)
