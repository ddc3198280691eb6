"""The interface every data source of the server implements, and helpers they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import pandas as pd

from tslake.registry import DATASETS
from tslake.server.calendar import TradingCalendar
from tslake.server.financial_queries import (
    DISCLOSURE_API,
    DIVIDEND_API,
    FINANCIAL_APIS,
    REPORT_APIS,
    EventQuery,
    ReportQuery,
)
from tslake.server.tables import EARLIEST_DAY, LATEST_DAY

# The APIs the server implements; every other api_name is rejected. DAILY_APIS have
# one row per stock and day it traded, and suspend_d one row per suspension or
# resumption. DATED_APIS are both kinds: rows with a trade_date, served newest first.
# FINANCIAL_APIS are the statements, fina_indicator, dividend and disclosure_date
# (see ``financial_queries``).
DAILY_APIS: tuple[str, ...] = ("daily", "adj_factor", "daily_basic")
SUSPEND_API = "suspend_d"
DATED_APIS: tuple[str, ...] = (*DAILY_APIS, SUSPEND_API)
SERVED_APIS: tuple[str, ...] = ("stock_basic", "trade_cal", *DATED_APIS, *FINANCIAL_APIS)


class MarketSource(ABC):
    """Source of the server's rows: a simulated market or recorded tables.

    Every frame has the registry's columns and types. The server applies its clock,
    parameters, row caps and field selection on top.
    """

    calendar: TradingCalendar

    @property
    @abstractmethod
    def description(self) -> str:
        """Return a short Chinese description for the start-up log line."""

    @abstractmethod
    def stock_basic(self, as_of: str | None = None) -> pd.DataFrame:
        """Return every stock as known on day ``as_of`` (YYYYMMDD), sorted by ts_code.

        Stocks listed after ``as_of`` are left out, and a delisting or pause that
        happens after ``as_of`` is not shown yet. None returns the final state.
        """

    @abstractmethod
    def daily_rows(
        self,
        dataset: str,
        codes: Sequence[str] | None,
        first: str,
        last: str,
        limit: int | None,
    ) -> pd.DataFrame:
        """Return the rows of a daily dataset dated from ``first`` to ``last`` (inclusive).

        ``codes`` None means every stock. Rows are sorted newest first: date
        descending, then ts_code ascending. With ``limit``, only the first ``limit`` rows
        of that order are returned, so the oldest rows are dropped.
        """

    @abstractmethod
    def suspend_rows(
        self,
        codes: Sequence[str] | None,
        first: str,
        last: str,
        suspend_type: str | None,
        limit: int | None,
    ) -> pd.DataFrame:
        """Return the suspend_d rows dated from ``first`` to ``last`` (inclusive).

        ``suspend_type`` ``S`` or ``R`` keeps only that type and None keeps both.
        ``codes``, the order and ``limit`` work as in ``daily_rows``.
        """

    @abstractmethod
    def report_rows(self, api: str, query: ReportQuery, visible_through: str) -> pd.DataFrame:
        """Return the rows of a statement API or fina_indicator for ``query``.

        Only rows announced by ``visible_through`` (YYYYMMDD) are returned, newest
        first, as ``financial_queries.select_reports`` orders and flags them.
        """

    @abstractmethod
    def event_rows(self, api: str, query: EventQuery, visible_through: str) -> pd.DataFrame:
        """Return the dividend or disclosure_date rows of ``query`` published by ``visible_through``.

        See ``financial_queries.select_dividends`` and ``select_disclosures``.
        """

    def financial_table(self, name: str, visible_through: str) -> pd.DataFrame:
        """Return every row of a financial API published by ``visible_through``.

        Statement rows of all report types come stock by stock, in ts_code order.
        """
        if name in REPORT_APIS:
            frames = [
                self.report_rows(name, ReportQuery(code, EARLIEST_DAY, LATEST_DAY), visible_through)
                for code in self.report_codes(name)
            ]
            if not frames:
                return self.report_rows(name, ReportQuery(""), visible_through)
            return pd.concat(frames, ignore_index=True)
        if name in (DIVIDEND_API, DISCLOSURE_API):
            return self.event_rows(name, EventQuery({}), visible_through)
        raise KeyError(f"{name!r} 不是财务数据接口；可用的有：{', '.join(FINANCIAL_APIS)}")

    @abstractmethod
    def report_codes(self, api: str) -> list[str]:
        """Return, in ts_code order, the codes that may have rows of a report API."""

    def trade_cal(self) -> pd.DataFrame:
        """Return the SSE calendar, oldest day first."""
        return self.calendar.frame("SSE")

    def table(self, name: str) -> pd.DataFrame:
        """Return the whole table of ``name`` in the order the server sends rows.

        Daily datasets and suspend_d come newest first, stock_basic by ts_code with the final
        list_status of every stock, trade_cal newest first for SSE, the financial APIs
        as ``financial_table`` orders them. No clock, row cap or rate limit applies.
        """
        if name == "stock_basic":
            return self.stock_basic(None)
        if name == "trade_cal":
            frame = self.trade_cal()
            return frame.iloc[::-1].reset_index(drop=True)
        if name in DAILY_APIS:
            return self.daily_rows(name, None, EARLIEST_DAY, LATEST_DAY, None)
        if name == SUSPEND_API:
            return self.suspend_rows(None, EARLIEST_DAY, LATEST_DAY, None, None)
        if name in FINANCIAL_APIS:
            return self.financial_table(name, LATEST_DAY)
        known = ", ".join(SERVED_APIS)
        raise KeyError(f"本地服务没有数据集 {name!r}；可用的数据集：{known}")


def stock_basic_as_of(
    frame: pd.DataFrame, as_of: str, pause_dates: pd.Series | None = None
) -> pd.DataFrame:
    """Return the rows of ``frame`` (final state, sorted by ts_code) as known on ``as_of``.

    A stock whose list_date is after ``as_of`` is dropped. A delisted stock whose
    delist_date is after ``as_of`` is shown as listed (``L``, no delist_date). A
    paused stock (``P``) is shown as listed until its date in ``pause_dates`` (a
    Series aligned with ``frame``); without a pause date it stays ``P``.
    """
    visible = frame["list_date"].isna() | (frame["list_date"] <= as_of)
    result = frame.loc[visible].copy()
    delisted_later = (result["list_status"] == "D") & (result["delist_date"] > as_of)
    result.loc[delisted_later, "list_status"] = "L"
    result.loc[delisted_later, "delist_date"] = None
    if pause_dates is not None:
        paused_later = (result["list_status"] == "P") & (pause_dates.loc[result.index] > as_of)
        result.loc[paused_later, "list_status"] = "L"
    return result.reset_index(drop=True)


def check_dataset(name: str) -> None:
    """Raise KeyError unless ``name`` is a daily dataset that the registry declares."""
    if name not in DAILY_APIS or name not in DATASETS:
        raise KeyError(f"{name!r} 不是本地服务提供的日线数据集；可用的有：{', '.join(DAILY_APIS)}")
