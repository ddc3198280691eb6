"""The disclosure_date rows of the simulated market, indexed for one-day cross-sections.

There is one row per stock and report period. ``actual_date`` is the day the report
itself came out (the first version's ``f_ann_date`` in the statements).
``pre_date`` is the plan in force on the server's day: a plan moved by an
announcement that is not yet published still shows the old day. ``modify_date``
lists the replaced planned days, oldest first and comma-separated, and ``ann_date``
is the day the plan in force was announced.

The plans of every stock are flattened into arrays once, sorted by actual day, so
``disclosure_date(actual_date=D)`` is a binary search, whatever the market's size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tslake.registry import DISCLOSURE_DATE
from tslake.server import days as calendar_days
from tslake.server.reports import ReportSchedule
from tslake.server.tables import typed_frame


class DisclosureIndex:
    """The report plans of every stock as flat arrays, stock by stock, oldest period first."""

    def __init__(self, codes: np.ndarray, schedules: Sequence[ReportSchedule]) -> None:
        counts = np.array([len(schedule) for schedule in schedules], dtype=np.int64)
        self._codes = codes
        self._starts = np.concatenate(([0], np.cumsum(counts)))
        self._positions = np.repeat(np.arange(len(schedules)), counts)

        def flat(attribute: str) -> np.ndarray:
            return np.concatenate([getattr(schedule, attribute) for schedule in schedules])

        self._end_dates = flat("end_dates")
        self._actual = flat("announcements")
        self._plan_days = flat("plan_days")
        self._plan_announcements = flat("plan_announcements")
        self._by_actual = np.argsort(self._actual, kind="stable")
        self._sorted_actual = self._actual[self._by_actual]

    def candidates(self, filters: dict[str, str], position: int | None) -> np.ndarray:
        """Return the rows that may match ``filters``; ``position`` is the ts_code's stock.

        The final filtering is left to ``financial_queries.select_disclosures``.
        """
        if "ts_code" in filters:
            if position is None:
                return np.empty(0, dtype=np.int64)
            return np.arange(self._starts[position], self._starts[position + 1])
        if "actual_date" in filters:
            day = int(filters["actual_date"])
            lo = np.searchsorted(self._sorted_actual, day, side="left")
            hi = np.searchsorted(self._sorted_actual, day, side="right")
            return np.sort(self._by_actual[lo:hi])
        if "end_date" in filters:
            return np.flatnonzero(self._end_dates == int(filters["end_date"]))
        return np.arange(len(self._end_dates))

    def frame(self, rows: np.ndarray, visible_through: str) -> pd.DataFrame:
        """Return ``rows`` as disclosure_date rows in the state published on ``visible_through``.

        Rows whose first plan is not yet published are left out. ``actual_date`` is
        returned as drawn; ``select_disclosures`` hides a day not yet published.
        """
        visible = int(visible_through)
        announcements = self._plan_announcements[rows]
        rows = rows[announcements[:, 0] <= visible]
        announcements = self._plan_announcements[rows]
        plan_days = self._plan_days[rows]
        changes = ((announcements[:, 1:] > 0) & (announcements[:, 1:] <= visible)).sum(axis=1)
        in_force = np.arange(len(rows))
        modified = np.full(len(rows), None, dtype=object)
        once = changes == 1
        twice = changes == 2
        first_plan = calendar_days.as_strings(plan_days[:, 0])
        second_plan = calendar_days.as_strings(plan_days[:, 1])
        modified[once] = first_plan[once]
        modified[twice] = first_plan[twice] + "," + second_plan[twice]
        columns = {
            "ts_code": self._codes[self._positions[rows]],
            "ann_date": calendar_days.as_strings(announcements[in_force, changes]),
            "end_date": calendar_days.as_strings(self._end_dates[rows]),
            "pre_date": calendar_days.as_strings(plan_days[in_force, changes]),
            "actual_date": calendar_days.as_strings(self._actual[rows]),
            "modify_date": modified,
        }
        return typed_frame(DISCLOSURE_DATE, columns)
