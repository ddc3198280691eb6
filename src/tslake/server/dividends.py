"""The dividend rows of the simulated market, one dividend plan per ex-date of the price series.

Every ex-date that ``series.draw_events`` draws, and on which the adjustment factor
steps, is paid by a plan with three stages, one row each. As in Tushare, every row
of a plan carries the proposal day as ``ann_date``. Each stage also has a day of its
own, on which it is announced:

* 预案 (proposal), 29 to 59 days before the record date, with ``cash_div`` 0.0 and
  the amount in ``cash_div_tax``, as Tushare lists proposals;
* 股东大会通过 (approved by the shareholders' meeting), 17 to 24 days before it.
  This day is not a column of the row;
* 实施 (implementation), 1 to 6 days before it, shown as ``imp_ann_date``, with
  ``record_date`` (the stock's last trading day before the ex-date), ``ex_date``,
  ``pay_date`` and, for bonus shares, ``div_listdate``.

A stage row becomes visible once its own day is published, so ``dividend(ann_date=P)``
returns first the proposal alone, later also the approval and the implementation.
``DividendIndex.frame`` passes the stage day to ``financial_queries.select_dividends``
in the hidden column ``PUBLISHED_COLUMN``, which that function drops.

The cash dividend per share (before tax) is the drawn yield times the close before
the ex-date, and ``stk_div`` is the drawn number of bonus shares per share. So the
factor step on the ex-date equals (1 + stk_div) / (1 - cash_div_tax / close), up to
rounding. When
the stock is suspended on the drawn ex-date, the ex-date is its next trading day,
where the factor steps, and the stage days count back from its record date.
``end_date`` is the period paid for: 31 December of the year before for a proposal
made by August, 30 June of the same year for a later one.

The stages of every stock are flattened into arrays once, sorted by ``ann_date``,
and the implementation rows are indexed by ``imp_ann_date`` as well, so
``dividend(ann_date=D)`` and ``dividend(imp_ann_date=D)`` are binary searches.
Amounts need the price series and are computed only for the rows a query returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from tslake.registry import DIVIDEND
from tslake.server import days as calendar_days
from tslake.server import series as sim
from tslake.server.financial_queries import DIVIDEND_STAGES, PUBLISHED_COLUMN
from tslake.server.tables import typed_frame
from tslake.server.universe import Listing, stock_rng

PROPOSAL, APPROVAL, IMPLEMENTATION = range(3)

# Share of bonus issues paid as bonus shares (送股) rather than converted reserves (转增).
BONUS_SHARE_ISSUES = 0.5


class _Plans:
    """The dividend plans of one stock, one entry per paid ex-date; days are YYYYMMDD."""

    def __init__(self, listing: Listing, seed: int, session_count: int, end_session: int) -> None:
        events = sim.draw_events(seed, listing)
        trading = sim.trading_days(listing, session_count)
        draws = stock_rng(seed, listing.index, sim.STREAM_DIVIDENDS).random((sim.MAX_EVENTS, 4))
        # The factor steps on the first trading row on or after each drawn ex-date.
        ex_rows = np.searchsorted(trading, events.ex_dates, side="left")
        paid = (events.ex_dates < end_session) & (ex_rows < len(trading))
        # NOTE: when a suspension covers two drawn ex-dates, both factor steps fall on
        # the same row. Only the first is paid by a plan, so the dividend of that row
        # does not explain the whole step. This needs a suspension of 200 sessions or more.
        paid &= np.concatenate(([True], np.diff(ex_rows) > 0))
        self.ex_rows = ex_rows[paid]
        self.ex_sessions = trading[self.ex_rows]
        self.record_sessions = trading[self.ex_rows - 1]
        self.dividend_yield = events.dividend_yield[paid]
        self.bonus = events.bonus[paid]
        self.share_issue = draws[paid, 3] < BONUS_SHARE_ISSUES
        self.draws = draws[paid]


class DividendIndex:
    """The dividend stages of every stock as flat arrays, sorted by ``ann_date``.

    Rows of one ``ann_date`` come stock by stock, each plan in stage order.
    """

    def __init__(
        self,
        listings: Sequence[Listing],
        seed: int,
        sessions: np.ndarray,
        end_sessions: np.ndarray,
    ) -> None:
        columns: dict[str, list[np.ndarray]] = {name: [] for name in _INDEX_COLUMNS}
        for position, listing in enumerate(listings):
            plans = _Plans(listing, seed, len(sessions), int(end_sessions[position]))
            _append_stages(columns, position, plans, sessions)
        arrays = {name: np.concatenate(parts) for name, parts in columns.items()}
        order = np.lexsort((arrays["stage"], arrays["position"], arrays["ann_date"]))
        self._arrays = {name: values[order] for name, values in arrays.items()}
        self._codes = np.array([listing.ts_code for listing in listings], dtype=object)

        implementations = np.flatnonzero(self._arrays["stage"] == IMPLEMENTATION)
        by_day = np.argsort(self._arrays["imp_ann_date"][implementations], kind="stable")
        self._by_imp_ann_date = implementations[by_day]
        self._sorted_imp_ann_date = self._arrays["imp_ann_date"][self._by_imp_ann_date]

    def candidates(self, filters: dict[str, str], position: int | None) -> np.ndarray:
        """Return the rows that may match ``filters``, in index order.

        ``position`` is the stock of the ``ts_code`` filter, None for an unknown code.
        Visibility and the final filtering are left to
        ``financial_queries.select_dividends``.
        """
        arrays = self._arrays
        if "ann_date" in filters:
            day = int(filters["ann_date"])
            lo = np.searchsorted(arrays["ann_date"], day, side="left")
            hi = np.searchsorted(arrays["ann_date"], day, side="right")
            rows = np.arange(lo, hi)
        elif "imp_ann_date" in filters:
            day = int(filters["imp_ann_date"])
            lo = np.searchsorted(self._sorted_imp_ann_date, day, side="left")
            hi = np.searchsorted(self._sorted_imp_ann_date, day, side="right")
            rows = np.sort(self._by_imp_ann_date[lo:hi])
        else:
            rows = np.arange(len(arrays["ann_date"]))

        if "ts_code" in filters:
            if position is None:
                return np.empty(0, dtype=np.int64)
            rows = rows[arrays["position"][rows] == position]
        for name in ("record_date", "ex_date", "imp_ann_date"):
            if name in filters:
                rows = rows[arrays[name][rows] == int(filters[name])]
        return rows

    def frame(
        self, rows: np.ndarray, close_before: Callable[[int, np.ndarray], np.ndarray]
    ) -> pd.DataFrame:
        """Build the dividend rows ``rows``, with each stage's own day in ``PUBLISHED_COLUMN``.

        ``close_before(position, series_rows)`` returns a stock's closes (CNY) on
        rows of its price series.
        """
        arrays = {name: values[rows] for name, values in self._arrays.items()}
        close = np.empty(len(rows))
        for position in np.unique(arrays["position"]):
            mine = arrays["position"] == position
            close[mine] = close_before(int(position), arrays["series_row"][mine] - 1)
        cash = np.round(arrays["dividend_yield"] * close, 4)
        bonus = np.round(arrays["bonus"], 4)
        implemented = arrays["stage"] == IMPLEMENTATION
        has_bonus = bonus > 0
        share_issue = arrays["share_issue"].astype(bool)

        def implemented_day(name: str, condition: np.ndarray = implemented) -> np.ndarray:
            return calendar_days.as_strings(np.where(condition, arrays[name], 0))

        columns = {
            "ts_code": self._codes[arrays["position"]],
            "end_date": calendar_days.as_strings(arrays["end_date"]),
            "ann_date": calendar_days.as_strings(arrays["ann_date"]),
            "div_proc": np.array(DIVIDEND_STAGES, dtype=object)[arrays["stage"]],
            "stk_div": bonus,
            "stk_bo_rate": np.where(has_bonus & share_issue, bonus, np.nan),
            "stk_co_rate": np.where(has_bonus & ~share_issue, bonus, np.nan),
            "cash_div": np.where(implemented, cash, 0.0),
            "cash_div_tax": cash,
            "record_date": implemented_day("record_date"),
            "ex_date": implemented_day("ex_date"),
            "pay_date": implemented_day("ex_date"),
            "div_listdate": implemented_day("ex_date", implemented & has_bonus),
            "imp_ann_date": implemented_day("imp_ann_date"),
        }
        frame = typed_frame(DIVIDEND, columns)
        frame[PUBLISHED_COLUMN] = pd.array(
            calendar_days.as_strings(arrays["published"]), dtype="str"
        )
        return frame


_INDEX_COLUMNS = (
    "position",
    "stage",
    "ann_date",
    "published",
    "end_date",
    "record_date",
    "ex_date",
    "imp_ann_date",
    "series_row",
    "dividend_yield",
    "bonus",
    "share_issue",
)


def _append_stages(
    columns: dict[str, list[np.ndarray]], position: int, plans: _Plans, sessions: np.ndarray
) -> None:
    """Append the three stage rows of every plan of one stock to ``columns``."""
    ex_day = calendar_days.to_day_numbers(sessions[plans.ex_sessions])
    record_day = calendar_days.to_day_numbers(sessions[plans.record_sessions])
    draws = plans.draws
    proposal = record_day - 29 - (draws[:, 0] * 31).astype(np.int64)
    approval = record_day - 17 - (draws[:, 1] * 8).astype(np.int64)
    implementation = record_day - 1 - (draws[:, 2] * 6).astype(np.int64)
    days = calendar_days.from_day_numbers(
        np.stack([proposal, approval, implementation, ex_day, record_day])
    )
    proposal_day = days[PROPOSAL]
    year = proposal_day // 10000
    by_august = proposal_day // 100 % 100 <= 8
    end_date = np.where(by_august, (year - 1) * 10000 + 1231, year * 10000 + 630)
    # A long suspension can bring two plans so close that they would pay the same
    # period; the later plan then pays the half year after.
    for plan in range(1, len(end_date)):
        if end_date[plan] <= end_date[plan - 1]:
            previous = end_date[plan - 1]
            half_year_later = previous + 601 if previous % 10000 == 630 else previous + 10000 - 601
            end_date[plan] = half_year_later

    count = len(ex_day)
    for stage in (PROPOSAL, APPROVAL, IMPLEMENTATION):
        columns["position"].append(np.full(count, position, dtype=np.int64))
        columns["stage"].append(np.full(count, stage, dtype=np.int64))
        columns["ann_date"].append(proposal_day)
        columns["published"].append(days[stage])
        columns["end_date"].append(end_date)
        columns["record_date"].append(days[4])
        columns["ex_date"].append(days[3])
        columns["imp_ann_date"].append(days[IMPLEMENTATION])
        columns["series_row"].append(plans.ex_rows)
        columns["dividend_yield"].append(plans.dividend_yield)
        columns["bonus"].append(plans.bonus)
        columns["share_issue"].append(plans.share_issue.astype(np.int64))
