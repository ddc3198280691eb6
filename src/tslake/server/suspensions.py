"""The suspend_d rows of the simulated market, derived from each stock's suspended spans.

A stock has a row of type ``S`` on every session of its suspended spans. Those are
exactly the sessions between its listing and its delisting or pause on which daily,
adj_factor and daily_basic have no row, because ``series.trading_days`` removes the
same spans. A stock also has a row of type ``R`` on the first session it trades
again after a span. A span that runs into the delisting, the pause or the end of the
calendar has no ``R`` row.

suspend_timing is ``09:30-10:00`` on the ``S`` row of a one-session span and null
on every other row.

The spans of the whole market are kept as a few arrays with one entry per span, so
a query expands only the spans in its date range into rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from tslake.server.universe import Listing

# NOTE: a suspend_timing such as 09:30-10:00 suggests a halt for part of the day, after
# which a real stock may still trade and have a daily row. The simulation gives such a
# day no rows, so that every S row is a day without a daily row.
SHORT_SUSPENSION_TIMING = "09:30-10:00"


class SuspensionRows(NamedTuple):
    """suspend_d rows as arrays: stock positions, session indexes, types and timings."""

    positions: np.ndarray
    days: np.ndarray
    types: np.ndarray
    timings: np.ndarray


def merged_spans(listing: Listing, end_session: int) -> list[tuple[int, int]]:
    """Return the suspended session spans [start, stop) of ``listing``, merged and clipped.

    Overlapping and adjacent spans become one, because no trading session lies
    between them. Spans are clipped to [list_index, end_session).
    """
    spans: list[tuple[int, int]] = []
    for start, stop in sorted(listing.suspensions):
        start = max(start, listing.list_index)
        stop = min(stop, end_session)
        if start >= stop:
            continue
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], stop))
        else:
            spans.append((start, stop))
    return spans


class SuspensionIndex:
    """The suspended spans of every stock of a market, as flat arrays in stock order.

    ``end_sessions[i]`` is the first session on which stock ``i`` has no rows any
    more: its delisting or pause session, or the number of sessions in the calendar.
    """

    def __init__(self, listings: Sequence[Listing], end_sessions: np.ndarray) -> None:
        positions: list[int] = []
        starts: list[int] = []
        stops: list[int] = []
        for position, listing in enumerate(listings):
            for start, stop in merged_spans(listing, int(end_sessions[position])):
                positions.append(position)
                starts.append(start)
                stops.append(stop)
        self._positions = np.array(positions, dtype=np.int64)
        self._starts = np.array(starts, dtype=np.int64)
        self._stops = np.array(stops, dtype=np.int64)
        self._resumes = self._stops < end_sessions[self._positions]
        self._short = (self._stops - self._starts) == 1

    def rows(
        self,
        candidates: np.ndarray | None,
        lo_session: int,
        hi_session: int,
        suspend_type: str | None,
        limit: int | None,
    ) -> SuspensionRows:
        """Return the rows in sessions [lo_session, hi_session), newest first, then by stock.

        ``candidates`` are the stock positions to include (None for all). A
        ``suspend_type`` other than None, ``S`` or ``R`` selects no rows. With
        ``limit``, only the first ``limit`` rows of that order are returned.
        """
        candidate_spans = np.ones(len(self._positions), dtype=bool)
        if candidates is not None:
            candidate_spans &= np.isin(self._positions, candidates)

        parts = []
        if suspend_type in (None, "S"):
            parts.append(self._suspended_rows(candidate_spans, lo_session, hi_session))
        if suspend_type in (None, "R"):
            parts.append(self._resumed_rows(candidate_spans, lo_session, hi_session))
        if not parts:
            return _empty_rows()

        positions = np.concatenate([part.positions for part in parts])
        days = np.concatenate([part.days for part in parts])
        types = np.concatenate([part.types for part in parts])
        timings = np.concatenate([part.timings for part in parts])
        # np.lexsort sorts by its last key first: date descending, then stock position,
        # which is ts_code order.
        order = np.lexsort((positions, -days))
        if limit is not None:
            order = order[:limit]
        return SuspensionRows(positions[order], days[order], types[order], timings[order])

    def _suspended_rows(
        self, candidate_spans: np.ndarray, lo_session: int, hi_session: int
    ) -> SuspensionRows:
        """Expand every candidate span that overlaps the sessions into one S row per session."""
        selected = candidate_spans & (self._starts < hi_session) & (self._stops > lo_session)
        first = np.maximum(self._starts[selected], lo_session)
        stop = np.minimum(self._stops[selected], hi_session)
        lengths = stop - first
        span_of_row = np.repeat(np.arange(len(first)), lengths)
        span_begins = np.cumsum(lengths) - lengths
        offsets = np.arange(int(lengths.sum())) - span_begins[span_of_row]
        short = self._short[selected][span_of_row]
        return SuspensionRows(
            positions=self._positions[selected][span_of_row],
            days=first[span_of_row] + offsets,
            types=np.full(len(span_of_row), "S", dtype=object),
            timings=np.where(short, SHORT_SUSPENSION_TIMING, None).astype(object),
        )

    def _resumed_rows(
        self, candidate_spans: np.ndarray, lo_session: int, hi_session: int
    ) -> SuspensionRows:
        """Return one R row per candidate span whose resumption session is in the range."""
        selected = (
            candidate_spans
            & self._resumes
            & (self._stops >= lo_session)
            & (self._stops < hi_session)
        )
        count = int(selected.sum())
        return SuspensionRows(
            positions=self._positions[selected],
            days=self._stops[selected],
            types=np.full(count, "R", dtype=object),
            timings=np.full(count, None, dtype=object),
        )


def _empty_rows() -> SuspensionRows:
    empty_integers = np.empty(0, dtype=np.int64)
    empty_objects = np.empty(0, dtype=object)
    return SuspensionRows(empty_integers, empty_integers, empty_objects, empty_objects)
