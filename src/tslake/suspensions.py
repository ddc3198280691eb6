"""Suspended stocks per day, from the `suspend_d` parts in the lake, for exact completeness checks."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from tslake.coverage import covered_matrix, read_parts


class Suspensions:
    """The codes suspended (`suspend_type` S) on each day that `suspend_d` covers."""

    def __init__(self, data_dir: Path, days: list[str]) -> None:
        parts = read_parts(data_dir, "suspend_d")
        day_array = np.array(sorted(set(days)), dtype=object)
        # Only whole-market coverage shows that no other stock was suspended that day.
        market = [
            part for part in parts if any(segment.symbols is None for segment in part.segments)
        ]
        covered = (
            covered_matrix(market, np.array(["*"], dtype=object), day_array)[0]
            if len(day_array)
            else []
        )
        self._known = {str(day) for day, flag in zip(day_array, covered, strict=True) if flag}
        self._codes: dict[str, set[str]] = {day: set() for day in self._known}
        files = [str(part.path) for part in parts]
        if files and self._known:
            query = (
                "SELECT trade_date, ts_code FROM read_parquet($files) "
                "WHERE suspend_type = 'S' AND trade_date IN (SELECT unnest($days))"
            )
            with duckdb.connect() as connection:
                rows = connection.execute(
                    query, {"files": files, "days": sorted(self._known)}
                ).fetchall()
            for day, code in rows:
                self._codes[str(day)].add(str(code))

    def on(self, day: str) -> set[str] | None:
        """Return the codes suspended on `day`, or None when `suspend_d` does not cover it."""
        if day not in self._known:
            return None
        return self._codes[day]
