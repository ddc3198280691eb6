"""The Shanghai Stock Exchange (SSE) trading calendar served by the local server.

Both data sources use it: the simulated market places its rows on the open days, and
the replay source derives the full calendar that a recording lacks.
"""

from __future__ import annotations

import functools
import logging
import warnings
from dataclasses import dataclass
from datetime import date

import exchange_calendars as xcals
import numpy as np
import pandas as pd

from tslake.clock import SHANGHAI
from tslake.registry import TRADE_CAL
from tslake.server.tables import typed_frame

logger = logging.getLogger(__name__)


# The first SSE trading day; Tushare's trade_cal starts here too.
FIRST_DAY = date(1990, 12, 19)

# exchange_calendars 4.13.2 records XSHG holidays up to this day and refuses later ends.
XSHG_LAST_RECORDED_DAY = date(2026, 12, 31)

# The calendar always reaches at least this far, so that data placed on a fixed
# session index does not depend on the year the server runs in.
MIN_CALENDAR_END = date(2027, 12, 31)


def default_calendar_end(today: date | None = None) -> date:
    """Return 31 December of the year after ``today`` (Shanghai), at least MIN_CALENDAR_END."""
    if today is None:
        today = pd.Timestamp.now(tz=SHANGHAI).date()
    return max(MIN_CALENDAR_END, date(today.year + 1, 12, 31))


def date_to_int(value: date) -> int:
    """Return ``value`` as the integer YYYYMMDD."""
    return value.year * 10000 + value.month * 100 + value.day


@dataclass(frozen=True, eq=False)
class TradingCalendar:
    """Every calendar day from FIRST_DAY to ``end``, with the open days (sessions) indexed.

    Days are stored as integers YYYYMMDD, which sort like the ``YYYYMMDD`` strings
    Tushare uses. A session index is a position in ``sessions``.
    """

    days: np.ndarray
    is_open: np.ndarray
    sessions: np.ndarray
    session_strings: np.ndarray

    @classmethod
    def from_sessions(cls, sessions: pd.DatetimeIndex, end: date) -> TradingCalendar:
        """Build the calendar from the open days; every other day up to ``end`` is closed."""
        all_days = pd.date_range(FIRST_DAY, end, freq="D")
        days = (all_days.year * 10000 + all_days.month * 100 + all_days.day).to_numpy(np.int64)
        open_days = (sessions.year * 10000 + sessions.month * 100 + sessions.day).to_numpy(np.int64)
        open_days = open_days[(open_days >= days[0]) & (open_days <= days[-1])]
        is_open = np.isin(days, open_days)
        session_strings = np.array([str(day) for day in open_days], dtype=object)
        return cls(days=days, is_open=is_open, sessions=open_days, session_strings=session_strings)

    @property
    def first_day(self) -> str:
        return str(self.days[0])

    @property
    def last_day(self) -> str:
        return str(self.days[-1])

    def session_range(self, first: str, last: str) -> tuple[int, int]:
        """Return the half-open session index range [lo, hi) of the open days in [first, last]."""
        lo = int(np.searchsorted(self.sessions, int(first), side="left"))
        hi = int(np.searchsorted(self.sessions, int(last), side="right"))
        return lo, max(lo, hi)

    def session_index(self, day: str) -> int:
        """Return the index of the first session on or after ``day``."""
        return int(np.searchsorted(self.sessions, int(day), side="left"))

    def is_session(self, day: str) -> bool:
        position = self.session_index(day)
        return position < len(self.sessions) and int(self.sessions[position]) == int(day)

    def frame(self, exchange: str = "SSE") -> pd.DataFrame:
        """Return the trade_cal table, oldest day first, with the registry column types.

        ``pretrade_date`` is the last open day before each day (open or closed); the
        first day has none.
        """
        previous_session = np.searchsorted(self.sessions, self.days, side="left") - 1
        pretrade = np.full(len(self.days), None, dtype=object)
        has_previous = previous_session >= 0
        pretrade[has_previous] = self.session_strings[previous_session[has_previous]]
        columns = {
            "exchange": np.full(len(self.days), exchange, dtype=object),
            "cal_date": self.days.astype(str).astype(object),
            "is_open": self.is_open.astype(np.int64),
            "pretrade_date": pretrade,
        }
        return typed_frame(TRADE_CAL, columns)


@functools.lru_cache(maxsize=4)
def sse_calendar(end: date | None = None) -> TradingCalendar:
    """Return the SSE calendar from 1990-12-19 to ``end`` (default: default_calendar_end()).

    The open days come from exchange_calendars' XSHG calendar up to
    XSHG_LAST_RECORDED_DAY.
    """
    if end is None:
        end = default_calendar_end()
    xshg_end = min(end, XSHG_LAST_RECORDED_DAY)
    with warnings.catch_warnings():
        # exchange_calendars 4.13.2 calls Series.values on time-zone aware data, which
        # pandas 3.1 deprecates; the sessions it returns are unaffected.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        calendar = xcals.get_calendar("XSHG", start=FIRST_DAY.isoformat(), end=xshg_end.isoformat())
    sessions = pd.DatetimeIndex(calendar.sessions)
    if end > XSHG_LAST_RECORDED_DAY:
        # NOTE: exchange_calendars has no SSE holidays after XSHG_LAST_RECORDED_DAY, so
        # later days are open Monday to Friday. The real calendar will close some of them.
        weekdays = pd.bdate_range(XSHG_LAST_RECORDED_DAY + pd.Timedelta(days=1), end)
        sessions = sessions.append(weekdays)
    logger.debug("上交所交易日历：%s 至 %s，共 %d 个交易日", FIRST_DAY, end, len(sessions))
    return TradingCalendar.from_sessions(sessions, end)
