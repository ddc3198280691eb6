"""The deterministic simulated market: a MarketSource built from seeded random series.

Stocks and their stock_basic rows are drawn when the market is created. The rows of
a stock are generated the first time a query needs them and then kept, at 36 bytes
per row: 5,400 stocks since 1990 (17.4 million rows) take 653 MiB of arrays. Each
query gathers the slices it needs from the cached arrays and builds only the rows it
returns. suspend_d rows come from the drawn suspended spans and need no series.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

import numpy as np
import pandas as pd

from tslake.registry import SUSPEND_D, get_dataset
from tslake.server import series as sim
from tslake.server.calendar import TradingCalendar, sse_calendar
from tslake.server.disclosures import DisclosureIndex
from tslake.server.dividends import DividendIndex
from tslake.server.financial_queries import (
    DIVIDEND_API,
    INDICATOR_API,
    EventQuery,
    ReportQuery,
    select_disclosures,
    select_dividends,
    select_reports,
)
from tslake.server.reports import ReportSchedule, draw_schedule
from tslake.server.source import MarketSource, check_dataset, stock_basic_as_of
from tslake.server.statements import indicator_table, statement_table
from tslake.server.suspensions import SuspensionIndex
from tslake.server.tables import empty_frame, typed_frame
from tslake.server.universe import Listing, Universe

DEFAULT_SYMBOLS = 200
DEFAULT_SEED = 0


class SimMarket(MarketSource):
    """A simulated A-share market of ``symbols`` stocks on the real SSE calendar.

    The same ``symbols`` and ``seed`` give the same data whatever the order of
    queries; stock ``i`` is also the same in markets of any size. ``calendar_end``
    only sets how far the calendar and the rows reach.
    """

    def __init__(
        self,
        symbols: int = DEFAULT_SYMBOLS,
        seed: int = DEFAULT_SEED,
        calendar_end: date | None = None,
    ) -> None:
        self.calendar: TradingCalendar = sse_calendar(calendar_end)
        self.symbols = symbols
        self.seed = seed
        self.universe = Universe(symbols, seed, self.calendar)
        self._stock_basic, self._pause_dates = self.universe.stock_basic()
        listings = self.universe.listings
        self._first_sessions = np.array([listing.list_index for listing in listings])
        session_count = len(self.calendar.sessions)
        self._end_sessions = np.array(
            [
                session_count if listing.end_index is None else listing.end_index
                for listing in listings
            ]
        )
        self._positions = {listing.ts_code: position for position, listing in enumerate(listings)}
        self._codes = np.array([listing.ts_code for listing in listings], dtype=object)
        self._suspensions = SuspensionIndex(listings, self._end_sessions)
        self._series: list[sim.SymbolSeries | None] = [None] * len(listings)
        self._schedules: list[ReportSchedule | None] = [None] * len(listings)
        self._disclosures: DisclosureIndex | None = None
        self._dividends: DividendIndex | None = None
        self._lock = threading.Lock()
        # Guards the building of the market-wide indexes of the financial tables.
        self._index_lock = threading.Lock()

    @property
    def description(self) -> str:
        return f"模拟行情，{self.symbols} 只股票，随机种子 {self.seed}"

    def stock_basic(self, as_of: str | None = None) -> pd.DataFrame:
        if as_of is None:
            return self._stock_basic.copy()
        return stock_basic_as_of(self._stock_basic, as_of, self._pause_dates)

    def series(self, ts_code: str) -> sim.SymbolSeries:
        """Return the generated rows of one stock; raise KeyError for an unknown code."""
        return self._series_at(self._positions[ts_code])

    def build_all(self) -> float:
        """Generate every stock's rows now; return the seconds it took."""
        started = time.perf_counter()
        for position in range(len(self.universe.listings)):
            self._series_at(position)
        return time.perf_counter() - started

    def memory_bytes(self) -> int:
        """Return the bytes held by the generated series so far."""
        return sum(series.nbytes for series in self._series if series is not None)

    def _series_at(self, position: int) -> sim.SymbolSeries:
        series = self._series[position]
        if series is not None:
            return series
        with self._lock:
            series = self._series[position]
            if series is None:
                listing: Listing = self.universe.listings[position]
                series = sim.generate_series(listing, self.seed, len(self.calendar.sessions))
                self._series[position] = series
        return series

    def schedule(self, ts_code: str) -> ReportSchedule:
        """Return the periodic reports of one stock; raise KeyError for an unknown code."""
        return self._schedule_at(self._positions[ts_code])

    def _schedule_at(self, position: int) -> ReportSchedule:
        schedule = self._schedules[position]
        if schedule is None:
            # Drawing twice in two threads gives equal schedules, so no lock is needed.
            schedule = draw_schedule(self.universe.listings[position], self.seed, self.calendar)
            self._schedules[position] = schedule
        return schedule

    def report_rows(self, api: str, query: ReportQuery, visible_through: str) -> pd.DataFrame:
        position = self._positions.get(query.ts_code)
        if position is None:
            return empty_frame(get_dataset(api))
        listing = self.universe.listings[position]
        schedule = self._schedule_at(position)
        series = self._series_at(position)
        if api == INDICATOR_API:
            table = indicator_table(listing, schedule, series, self.calendar)
        else:
            table = statement_table(api, listing, schedule, series, self.calendar)
        # Select on the key columns, then build only the returned rows.
        keys = table.keys()
        keys["row"] = np.arange(len(keys))
        selected = select_reports(keys, api, query, visible_through, set_flags=True)
        frame = table.frame(selected["row"].to_numpy())
        frame["update_flag"] = selected["update_flag"].to_numpy()
        return frame

    def report_codes(self, api: str) -> list[str]:
        return [listing.ts_code for listing in self.universe.listings]

    def event_rows(self, api: str, query: EventQuery, visible_through: str) -> pd.DataFrame:
        code = query.filters.get("ts_code")
        position = None if code is None else self._positions.get(code)
        if api == DIVIDEND_API:
            dividends = self._dividend_index()
            rows = dividends.candidates(query.filters, position)
            frame = dividends.frame(rows, self._closes)
            return select_dividends(frame, query, visible_through)
        disclosures = self._disclosure_index()
        rows = disclosures.candidates(query.filters, position)
        frame = disclosures.frame(rows, visible_through)
        return select_disclosures(frame, query, visible_through)

    def _closes(self, position: int, rows: np.ndarray) -> np.ndarray:
        """Return the closes (CNY) of one stock on the given rows of its series."""
        return self._series_at(position).close[rows] / 100.0

    def _disclosure_index(self) -> DisclosureIndex:
        with self._index_lock:
            if self._disclosures is None:
                schedules = [self._schedule_at(position) for position in range(len(self._codes))]
                self._disclosures = DisclosureIndex(self._codes, schedules)
            return self._disclosures

    def _dividend_index(self) -> DividendIndex:
        with self._index_lock:
            if self._dividends is None:
                self._dividends = DividendIndex(
                    self.universe.listings, self.seed, self.calendar.sessions, self._end_sessions
                )
            return self._dividends

    def daily_rows(
        self,
        dataset: str,
        codes: Sequence[str] | None,
        first: str,
        last: str,
        limit: int | None,
    ) -> pd.DataFrame:
        check_dataset(dataset)
        lo_session, hi_session = self.calendar.session_range(first, last)
        slices = self._select(codes, lo_session, hi_session)
        if limit is not None:
            slices = _keep_newest(slices, limit)
        codes_column, days, order = _row_order(slices)
        strings = self.calendar.session_strings
        key = {"ts_code": codes_column[order], "trade_date": strings[days[order]]}
        if dataset == "daily":
            values = _daily_values(slices)
        elif dataset == "adj_factor":
            values = {"adj_factor": _epoch_values(slices, sim.FACTOR)}
        else:
            values = _daily_basic_values(slices)
        columns = key | {name: column[order] for name, column in values.items()}
        return typed_frame(get_dataset(dataset), columns)

    def suspend_rows(
        self,
        codes: Sequence[str] | None,
        first: str,
        last: str,
        suspend_type: str | None,
        limit: int | None,
    ) -> pd.DataFrame:
        """Return the S and R rows of the suspended spans; see ``tslake.server.suspensions``."""
        lo_session, hi_session = self.calendar.session_range(first, last)
        candidates = None if codes is None else self._known_positions(codes)
        rows = self._suspensions.rows(candidates, lo_session, hi_session, suspend_type, limit)
        columns = {
            "ts_code": self._codes[rows.positions],
            "trade_date": self.calendar.session_strings[rows.days],
            "suspend_timing": rows.timings,
            "suspend_type": rows.types,
        }
        return typed_frame(SUSPEND_D, columns)

    def _known_positions(self, codes: Sequence[str]) -> np.ndarray:
        """Return the sorted positions of the known codes among ``codes``."""
        known = sorted(self._positions[code] for code in set(codes) if code in self._positions)
        return np.array(known, dtype=np.int64)

    def _select(self, codes: Sequence[str] | None, lo_session: int, hi_session: int) -> list[Slice]:
        """Return the non-empty row slices in sessions [lo_session, hi_session), by ts_code."""
        if lo_session >= hi_session:
            return []
        if codes is None:
            candidates = np.arange(len(self.universe.listings))
        else:
            candidates = self._known_positions(codes)
        overlaps = (self._first_sessions[candidates] < hi_session) & (
            self._end_sessions[candidates] > lo_session
        )
        listings = self.universe.listings
        slices = []
        for position in candidates[overlaps]:
            series = self._series_at(int(position))
            lo = int(np.searchsorted(series.days, lo_session, side="left"))
            hi = int(np.searchsorted(series.days, hi_session, side="left"))
            if lo < hi:
                slices.append(Slice(listings[position].ts_code, series, lo, hi))
        return slices


class Slice(NamedTuple):
    """The rows [lo, hi) of one stock's series."""

    ts_code: str
    series: sim.SymbolSeries
    lo: int
    hi: int


def _keep_newest(slices: list[Slice], limit: int) -> list[Slice]:
    """Shrink the slices to the first ``limit`` rows in newest-first order.

    The cut-off day is the oldest day that keeps any row. On that day, only the
    stocks first in ts_code order keep their row, as a newest-first sort followed by
    taking the first ``limit`` rows would do.
    """
    total = sum(part.hi - part.lo for part in slices)
    if total <= limit:
        return slices
    days = _gather(slices, "days")
    per_day = np.bincount(days)
    rows_from_newest = np.cumsum(per_day[::-1])
    steps_back = int(np.searchsorted(rows_from_newest, limit, side="left"))
    cutoff = len(per_day) - 1 - steps_back
    newer_rows = int(rows_from_newest[steps_back - 1]) if steps_back > 0 else 0
    room_on_cutoff = limit - newer_rows

    kept = []
    for part in slices:
        lo = max(part.lo, int(np.searchsorted(part.series.days, cutoff, side="left")))
        if lo < part.hi and part.series.days[lo] == cutoff:
            if room_on_cutoff > 0:
                room_on_cutoff -= 1
            else:
                lo += 1
        if lo < part.hi:
            kept.append(Slice(part.ts_code, part.series, lo, part.hi))
    return kept


def _row_order(slices: list[Slice]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return each gathered row's ts_code and session, and the newest-first row order.

    The slices are in ts_code order, so a stable sort by descending session keeps
    ts_code ascending within each day.
    """
    codes = np.repeat(
        np.array([part.ts_code for part in slices], dtype=object),
        [part.hi - part.lo for part in slices],
    )
    days = _gather(slices, "days")
    order = np.argsort(-days.astype(np.int64), kind="stable")
    return codes, days, order


def _gather(slices: list[Slice], attribute: str) -> np.ndarray:
    """Concatenate one per-row array of every slice."""
    if not slices:
        return np.empty(0, dtype=_EMPTY_TYPES[attribute])
    return np.concatenate([getattr(part.series, attribute)[part.lo : part.hi] for part in slices])


_EMPTY_TYPES = {
    "days": np.int32,
    "open": np.int32,
    "high": np.int32,
    "low": np.int32,
    "close": np.int32,
    "pre_close": np.int32,
    "vol": np.float64,
    "volume_ratio_centi": np.uint16,
}


def _gather_epochs(slices: list[Slice]) -> np.ndarray:
    """Return the epoch values of every gathered row, shape (EPOCH_FIELDS, rows)."""
    if not slices:
        return np.empty((sim.EPOCH_FIELDS, 0))
    blocks = [part.series.epoch_values[:, part.series.epoch[part.lo : part.hi]] for part in slices]
    return np.concatenate(blocks, axis=1)


def _daily_values(slices: list[Slice]) -> dict[str, np.ndarray]:
    """Return the daily price columns; change, pct_chg and amount are derived here."""
    open_cents = _gather(slices, "open").astype(np.float64)
    high_cents = _gather(slices, "high").astype(np.float64)
    low_cents = _gather(slices, "low").astype(np.float64)
    close_cents = _gather(slices, "close").astype(np.float64)
    pre_close_cents = _gather(slices, "pre_close").astype(np.float64)
    vol = _gather(slices, "vol")
    change_cents = close_cents - pre_close_cents
    # amount is in thousand CNY: lots * 100 shares * price (CNY) / 1000.
    average_cents = (open_cents + high_cents + low_cents + 2.0 * close_cents) / 5.0
    return {
        "open": open_cents / 100.0,
        "high": high_cents / 100.0,
        "low": low_cents / 100.0,
        "close": close_cents / 100.0,
        "pre_close": pre_close_cents / 100.0,
        "change": change_cents / 100.0,
        "pct_chg": np.round(change_cents / pre_close_cents * 100.0, 4),
        "vol": vol,
        "amount": np.round(vol * average_cents / 1000.0, 3),
    }


def _epoch_values(slices: list[Slice], field: int) -> np.ndarray:
    return _gather_epochs(slices)[field]


def _daily_basic_values(slices: list[Slice]) -> dict[str, np.ndarray]:
    """Return the daily_basic columns derived from close, volume and the epoch values.

    Shares are in 10k shares and market values in 10k CNY, so close * share is a
    market value. pe and pe_ttm are null when earnings are negative, and the dividend
    yields are null when the stock paid no dividend.
    """
    close = _gather(slices, "close") / 100.0
    vol = _gather(slices, "vol")
    ratio_centi = _gather(slices, "volume_ratio_centi")
    epochs = _gather_epochs(slices)
    total_share = epochs[sim.TOTAL_SHARE]
    float_share = epochs[sim.FLOAT_SHARE]
    free_share = epochs[sim.FREE_SHARE]
    total_mv = np.round(close * total_share, 4)

    def ratio(numerator: np.ndarray, denominator: np.ndarray, valid: np.ndarray) -> np.ndarray:
        result = np.full(len(numerator), np.nan)
        result[valid] = np.round(numerator[valid] / denominator[valid], 4)
        return result

    earnings = epochs[sim.EARNINGS]
    earnings_ttm = epochs[sim.EARNINGS_TTM]
    dividends = epochs[sim.DIVIDENDS]
    dividends_ttm = epochs[sim.DIVIDENDS_TTM]
    everywhere = np.ones(len(close), dtype=bool)
    volume_ratio = np.where(
        ratio_centi == sim.NO_VOLUME_RATIO, np.nan, ratio_centi.astype(np.float64) / 100.0
    )
    return {
        "close": close,
        "turnover_rate": np.round(vol / float_share, 4),
        "turnover_rate_f": np.round(vol / free_share, 4),
        "volume_ratio": volume_ratio,
        "pe": ratio(total_mv, earnings, earnings > 0),
        "pe_ttm": ratio(total_mv, earnings_ttm, earnings_ttm > 0),
        "pb": ratio(total_mv, epochs[sim.BOOK_VALUE], everywhere),
        "ps": ratio(total_mv, epochs[sim.SALES], everywhere),
        "ps_ttm": ratio(total_mv, epochs[sim.SALES_TTM], everywhere),
        "dv_ratio": ratio(dividends * 100.0, total_mv, dividends > 0),
        "dv_ttm": ratio(dividends_ttm * 100.0, total_mv, dividends_ttm > 0),
        "total_share": total_share,
        "float_share": float_share,
        "free_share": free_share,
        "total_mv": total_mv,
        "circ_mv": np.round(close * float_share, 4),
    }
