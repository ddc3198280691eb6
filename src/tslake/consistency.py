"""Consistency across datasets: every (symbol, day) in `daily` must also be in `adj_factor` and `daily_basic`.

A pair that a dataset's parts claim to cover but whose row is missing is
retracted: the planner treats it as missing again, so the next run requests
that day once more. A pair still missing after `MAX_ATTEMPTS` fetches is only
reported, so one gap upstream does not cost a call on every run forever.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np

from tslake.clock import SHANGHAI
from tslake.coverage import covered_matrix, read_parts
from tslake.parts import PartInfo

log = logging.getLogger(__name__)

REFERENCE = "daily"
CHECKED = ("adj_factor", "daily_basic")
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Retraction:
    """A covered (symbol, day) pair whose row is missing; parts fetched before `since` no longer cover it."""

    ts_code: str
    day: str
    since: str
    attempts: int

    def to_json(self) -> dict[str, object]:
        return {
            "ts_code": self.ts_code,
            "day": self.day,
            "since": self.since,
            "attempts": self.attempts,
        }


def retraction_file(state_dir: Path, dataset: str) -> Path:
    return state_dir / "retractions" / f"{dataset}.json"


def read_retractions(state_dir: Path, dataset: str) -> list[Retraction]:
    path = retraction_file(state_dir, dataset)
    if not path.exists():
        return []
    return [Retraction(**item) for item in json.loads(path.read_text(encoding="utf-8"))]


def _write_retractions(state_dir: Path, dataset: str, retractions: list[Retraction]) -> None:
    path = retraction_file(state_dir, dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(
        json.dumps([item.to_json() for item in retractions], ensure_ascii=False), encoding="utf-8"
    )
    os.replace(temporary, path)


def apply_retractions(
    covered: np.ndarray,
    parts: list[PartInfo],
    retractions: list[Retraction],
    codes: np.ndarray,
    days: np.ndarray,
) -> None:
    """Clear the covered flag of retracted pairs that no part fetched after the retraction covers."""
    for item in retractions:
        row = np.searchsorted(codes, item.ts_code)
        column = np.searchsorted(days, item.day)
        if (
            row >= len(codes)
            or codes[row] != item.ts_code
            or column >= len(days)
            or days[column] != item.day
        ):
            continue
        if not _refetched(parts, item, codes[row : row + 1], days[column : column + 1]):
            covered[row, column] = False


def _refetched(parts: list[PartInfo], item: Retraction, code: np.ndarray, day: np.ndarray) -> bool:
    newer = [part for part in parts if part.fetched_at > item.since]
    return bool(covered_matrix(newer, code, day).any())


def _missing_pairs(data_dir: Path, dataset: str, start: str, end: str) -> list[tuple[str, str]]:
    """Return the (ts_code, trade_date) pairs in `daily` but not in `dataset` between start and end."""
    reference = [str(part.path) for part in read_parts(data_dir, REFERENCE)]
    checked = [str(part.path) for part in read_parts(data_dir, dataset)]
    if not reference or not checked:
        return []
    query = """
        SELECT d.ts_code, d.trade_date
        FROM read_parquet($reference) AS d
        ANTI JOIN read_parquet($checked) AS c USING (ts_code, trade_date)
        WHERE d.trade_date BETWEEN $start AND $end
        ORDER BY d.trade_date, d.ts_code
    """
    with duckdb.connect() as connection:
        rows = connection.execute(
            query, {"reference": reference, "checked": checked, "start": start, "end": end}
        ).fetchall()
    return [(str(code), str(day)) for code, day in rows]


def check_consistency(
    data_dir: Path, state_dir: Path, start: str, end: str
) -> dict[str, dict[str, object]]:
    """Compare symbol sets per day across datasets; retract covered pairs that lack their row.

    Returns per checked dataset: pairs retracted (asked again next run) and pairs
    given up after `MAX_ATTEMPTS`, each with a few examples.
    """
    report: dict[str, dict[str, object]] = {}
    now = datetime.now(SHANGHAI).isoformat(timespec="microseconds")
    for dataset in CHECKED:
        pairs = _missing_pairs(data_dir, dataset, start, end)
        if not pairs:
            continue
        parts = read_parts(data_dir, dataset)
        codes = np.array(sorted({code for code, _ in pairs}), dtype=object)
        days = np.array(sorted({day for _, day in pairs}), dtype=object)
        covered = covered_matrix(parts, codes, days)
        previous = {(item.ts_code, item.day): item for item in read_retractions(state_dir, dataset)}
        kept = dict(previous)
        retracted: list[tuple[str, str]] = []
        given_up: list[tuple[str, str]] = []
        for code, day in pairs:
            row = np.searchsorted(codes, code)
            column = np.searchsorted(days, day)
            if not covered[row, column]:
                continue  # not fetched yet (for example published later): nothing to retract
            earlier = previous.get((code, day))
            if earlier is not None and not _refetched(
                parts, earlier, codes[row : row + 1], days[column : column + 1]
            ):
                continue  # already retracted and not asked for again yet
            attempts = (earlier.attempts if earlier else 0) + 1
            if attempts > MAX_ATTEMPTS:
                given_up.append((code, day))
                continue
            kept[(code, day)] = Retraction(code, day, now, attempts)
            retracted.append((code, day))
        _write_retractions(state_dir, dataset, list(kept.values()))
        if retracted or given_up:
            report[dataset] = {
                "retracted": len(retracted),
                "given_up": len(given_up),
                "examples": [f"{code}/{day}" for code, day in (retracted or given_up)[:5]],
            }
            log.warning(
                "%s 缺少 %d 个 daily 中存在的（股票, 交易日），已标记下次运行重新下载，例如 %s；"
                "%d 个已重试 %d 次仍缺失，只作报告。",
                dataset,
                len(retracted),
                report[dataset]["examples"],
                len(given_up),
                MAX_ATTEMPTS,
            )
    return report
