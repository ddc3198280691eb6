"""Vectorised arithmetic on calendar days stored as integers YYYYMMDD.

The financial tables place announcements on calendar days, weekends included, so
they count in days rather than in sessions. Integers YYYYMMDD sort like Tushare's
date strings and compare with them after ``int()``.
"""

from __future__ import annotations

import numpy as np

# Day number that stands for "no day": far below any real day, it maps to 0 as YYYYMMDD.
NO_DAY = np.iinfo(np.int64).min // 2


def to_day_numbers(days: np.ndarray | int) -> np.ndarray:
    """Convert integers YYYYMMDD to day numbers (days since 1970-01-01)."""
    return to_datetime64(np.asarray(days)).astype(np.int64)


def from_day_numbers(numbers: np.ndarray) -> np.ndarray:
    """Convert day numbers to integers YYYYMMDD; NO_DAY becomes 0."""
    numbers = np.asarray(numbers, dtype=np.int64)
    missing = numbers == NO_DAY
    result = to_integers(np.where(missing, 0, numbers).astype("datetime64[D]"))
    return np.where(missing, 0, result)


def weekdays_of_day_numbers(numbers: np.ndarray) -> np.ndarray:
    """Return the weekday of each day number: 0 is Monday, 6 is Sunday."""
    # 1970-01-01, day 0, was a Thursday (weekday 3).
    return (np.asarray(numbers, dtype=np.int64) + 3) % 7


def to_datetime64(days: np.ndarray) -> np.ndarray:
    """Convert integers YYYYMMDD to numpy datetime64[D]."""
    days = np.asarray(days, dtype=np.int64)
    years = (days // 10000 - 1970).astype("datetime64[Y]")
    months = years.astype("datetime64[M]") + (days // 100 % 100 - 1)
    return months.astype("datetime64[D]") + (days % 100 - 1)


def to_integers(dates: np.ndarray) -> np.ndarray:
    """Convert numpy datetime64[D] values to integers YYYYMMDD."""
    dates = np.asarray(dates, dtype="datetime64[D]")
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month_starts = dates.astype("datetime64[M]")
    months = month_starts.astype(np.int64) % 12 + 1
    day_of_month = (dates - month_starts.astype("datetime64[D]")).astype(np.int64) + 1
    return years * 10000 + months * 100 + day_of_month


def add_days(days: np.ndarray, offsets: np.ndarray | int) -> np.ndarray:
    """Return the days (YYYYMMDD) that lie ``offsets`` calendar days after ``days``."""
    return to_integers(to_datetime64(days) + np.asarray(offsets, dtype=np.int64))


def weekdays(days: np.ndarray) -> np.ndarray:
    """Return the weekday of each day (YYYYMMDD): 0 is Monday, 6 is Sunday."""
    return weekdays_of_day_numbers(to_day_numbers(days))


def as_strings(days: np.ndarray) -> np.ndarray:
    """Return the days as YYYYMMDD strings in an object array, with None where a day is 0."""
    days = np.asarray(days, dtype=np.int64)
    strings = np.full(len(days), None, dtype=object)
    present = days > 0
    strings[present] = days[present].astype(str)
    return strings
