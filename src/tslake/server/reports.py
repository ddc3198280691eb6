"""When each simulated stock announces its periodic reports, corrections and disclosure plans.

A stock reports every quarter end (0331, 0630, 0930, 1231) from its listing day on,
until it is delisted or paused. Reports are announced on calendar days, weekends
included, in the windows the exchanges set: the first quarter from 10 to 30 April,
the half year from 15 July to 31 August, the third quarter from 10 to 31 October and
the annual report from 1 March to 30 April of the next year. Announcements crowd
towards the end of each window, as they do in real data, and an annual report is
never announced after the first quarter of the next year.

About 7% of reports are corrected 1 to 30 days after the announcement, and a fifth
of those a second time. About 20% of annual reports get an adjusted version
(report_type 4) with the next annual report.

Each report also has a disclosure plan (``disclosure_date``): a planned day published
20 to 60 days ahead, which about 15% of reports move once and 5% twice, each change
announced a few days before the day it replaces.

Every draw uses a fixed number of rows per report of a generator seeded for this
stock, so a report never depends on how far the calendar reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tslake.server import days as calendar_days
from tslake.server.calendar import TradingCalendar
from tslake.server.series import STREAM_DISCLOSURES, STREAM_STATEMENTS
from tslake.server.universe import Listing, stock_rng

# Report periods drawn per stock: 4 a year from 1990 reach past 2060.
MAX_PERIODS = 300

# Announcement window of each end_type (row end_type - 1): months after the period
# end's month, first day of that month, length in days. The annual report window
# starts on 1 March of the next year.
ANNOUNCEMENT_WINDOWS = np.array([(1, 10, 21), (1, 15, 48), (1, 10, 22), (3, 1, 61)])

CORRECTION_SHARE = 0.07
SECOND_CORRECTION_SHARE = 0.2
ADJUSTED_ANNUAL_SHARE = 0.2
PLAN_CHANGE_SHARE = 0.15
SECOND_PLAN_CHANGE_SHARE = 0.05


@dataclass(frozen=True, eq=False)
class ReportSchedule:
    """The reports of one stock, oldest period first; days are integers YYYYMMDD.

    ``corrections[i]`` holds the days of the first and second correction of report
    ``i``. ``adjusted_days[i]`` is the day of the report_type 4 version of an annual
    report. ``plan_days[i]`` holds the planned days, the first plan first, and
    ``plan_announcements[i]`` the day each plan was published. 0 means no such day.
    """

    end_dates: np.ndarray
    end_types: np.ndarray
    announcements: np.ndarray
    corrections: np.ndarray
    adjusted_days: np.ndarray
    plan_days: np.ndarray
    plan_announcements: np.ndarray
    # Standard normal draws of the statement values, shape (periods, VALUE_DRAWS).
    value_draws: np.ndarray
    # Uniform draws in [0, 1) of the stock's constant ratios, shape (PROFILE_DRAWS,).
    profile_draws: np.ndarray

    def __len__(self) -> int:
        return len(self.end_dates)


VALUE_DRAWS = 12
PROFILE_DRAWS = 4

# Day number that stands for "no day"; it becomes 0 as YYYYMMDD.
NO_DAY = calendar_days.NO_DAY


def period_ends(first_day: int, count: int) -> np.ndarray:
    """Return ``count`` quarter ends (YYYYMMDD) from the first one on or after ``first_day``."""
    year, month = divmod(first_day // 100, 100)
    quarter = (month - 1) // 3
    if first_day > year * 10000 + (3 * quarter + 3) * 100 + 31:
        quarter += 1
    indexes = year * 4 + quarter + np.arange(count)
    years, quarters = np.divmod(indexes, 4)
    months = 3 * quarters + 3
    last_days = np.where((months == 3) | (months == 12), 31, 30)
    return years * 10000 + months * 100 + last_days


def draw_schedule(listing: Listing, seed: int, calendar: TradingCalendar) -> ReportSchedule:
    """Draw every report of ``listing`` whose period ends by the calendar's last day."""
    list_day = int(calendar.sessions[listing.list_index])
    end_dates = period_ends(list_day, MAX_PERIODS)
    end_types = end_dates // 100 % 100 // 3
    rng = stock_rng(seed, listing.index, STREAM_STATEMENTS)
    draws = rng.random((MAX_PERIODS, 8))
    value_draws = rng.standard_normal((MAX_PERIODS, VALUE_DRAWS))
    profile_draws = rng.random(PROFILE_DRAWS)

    # Days are counted as datetime64 day numbers here and converted once at the end.
    announcements = _announcement_days(end_dates, end_types, draws[:, 0], draws[:, 1])
    corrections = _correction_days(announcements, draws[:, 2:6])
    adjusted = _adjusted_days(end_types, announcements, draws[:, 6])
    plan_draws = stock_rng(seed, listing.index, STREAM_DISCLOSURES).random((MAX_PERIODS, 8))
    plan_days, plan_announcements = _disclosure_plans(announcements, plan_draws)

    # Keep the periods that end by the calendar's last day and, for a delisted or
    # paused stock, whose report comes out before trading stops. Announcement days
    # never fall from one period to the next, so ``keep`` is a prefix, and an
    # adjusted version is kept only if the annual report carrying it is.
    keep = end_dates <= int(calendar.last_day)
    if listing.end_index is not None and listing.end_index < len(calendar.sessions):
        stop = calendar_days.to_day_numbers(calendar.sessions[listing.end_index])
        keep &= announcements < stop
    count = MAX_PERIODS if keep.all() else int(np.argmin(keep))
    last_kept = announcements[count - 1] if count else NO_DAY
    adjusted = np.where(adjusted <= last_kept, adjusted, NO_DAY)

    dated = np.concatenate(
        [
            announcements[:count, None],
            corrections[:count],
            adjusted[:count, None],
            plan_days[:count],
            plan_announcements[:count],
        ],
        axis=1,
    )
    dated = calendar_days.from_day_numbers(dated)
    return ReportSchedule(
        end_dates=end_dates[:count],
        end_types=end_types[:count],
        announcements=dated[:, 0],
        corrections=dated[:, 1:3],
        adjusted_days=dated[:, 3],
        plan_days=dated[:, 4:7],
        plan_announcements=dated[:, 7:10],
        value_draws=value_draws[:count],
        profile_draws=profile_draws,
    )


def _announcement_days(
    end_dates: np.ndarray, end_types: np.ndarray, offset_draw: np.ndarray, weekend_draw: np.ndarray
) -> np.ndarray:
    """Draw the announcement day (day number) of every report within its window."""
    windows = ANNOUNCEMENT_WINDOWS[end_types - 1]
    months_after, first_day, length = windows[:, 0], windows[:, 1], windows[:, 2]
    month_index = (end_dates // 10000 - 1970) * 12 + (end_dates // 100 % 100 - 1) + months_after
    month_starts = month_index.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    # The square root crowds the days towards the end of the window.
    offsets = np.minimum((np.sqrt(offset_draw) * length).astype(np.int64), length - 1)
    days = month_starts + first_day - 1 + offsets

    # Three weekend announcements in four move to the Friday before.
    weekday = calendar_days.weekdays_of_day_numbers(days)
    to_friday = (weekday >= 5) & (weekend_draw < 0.75)
    days = np.where(to_friday, days - (weekday - 4), days)

    # A first-quarter report never comes out before the previous annual report.
    after_annual = np.flatnonzero((end_types[1:] == 1) & (end_types[:-1] == 4)) + 1
    days[after_annual] = np.maximum(days[after_annual], days[after_annual - 1])
    return days


def _correction_days(announcements: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Draw the days of the first and second corrections (NO_DAY for none), shape (periods, 2)."""
    corrected = draws[:, 0] < CORRECTION_SHARE
    twice = corrected & (draws[:, 1] < SECOND_CORRECTION_SHARE)
    first = announcements + 1 + (draws[:, 2] * 30).astype(np.int64)
    second = first + 1 + (draws[:, 3] * 30).astype(np.int64)
    return np.stack([np.where(corrected, first, NO_DAY), np.where(twice, second, NO_DAY)], axis=1)


def _adjusted_days(
    end_types: np.ndarray, announcements: np.ndarray, draw: np.ndarray
) -> np.ndarray:
    """Return, for some annual reports, the next annual report's day (NO_DAY for the others)."""
    annual = np.flatnonzero(end_types == 4)
    adjusted = np.full(len(end_types), NO_DAY, dtype=np.int64)
    chosen = annual[:-1][draw[annual[:-1]] < ADJUSTED_ANNUAL_SHARE]
    following = annual[np.searchsorted(annual, chosen) + 1]
    adjusted[chosen] = announcements[following]
    return adjusted


def _disclosure_plans(
    announcements: np.ndarray, draws: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Draw each report's planned days and their announcements, shape (periods, 3) each.

    The last plan is the actual day or up to 5 days before it. A moved plan replaced
    a day 3 to 17 days earlier and was announced 1 to 5 days before that day; the
    first plan was published 20 to 60 days ahead of its day. Unused plans are NO_DAY.
    """
    periods = len(announcements)
    changes = (draws[:, 0] < PLAN_CHANGE_SHARE).astype(np.int64)
    changes += draws[:, 0] < SECOND_PLAN_CHANGE_SHARE
    early = np.where(draws[:, 1] < 0.7, 0, 1 + (draws[:, 2] * 5).astype(np.int64))

    plan_days = np.full((periods, 3), NO_DAY, dtype=np.int64)
    plan_announcements = np.full((periods, 3), NO_DAY, dtype=np.int64)
    rows = np.arange(periods)
    later = announcements - early
    plan_days[rows, changes] = later
    for step in (1, 2):
        moved = changes >= step
        column = np.maximum(changes - step, 0)
        earlier = later - 3 - (draws[:, 2 + step] * 15).astype(np.int64)
        notice = earlier - 1 - (draws[:, 4 + step] * 5).astype(np.int64)
        plan_days[rows[moved], column[moved]] = earlier[moved]
        plan_announcements[rows[moved], column[moved] + 1] = notice[moved]
        later = np.where(moved, earlier, later)
    plan_announcements[:, 0] = plan_days[:, 0] - 20 - (draws[:, 7] * 41).astype(np.int64)
    return plan_days, plan_announcements
