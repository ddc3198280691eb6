"""Plan the fetch units that fill every missing (symbol, trading day) pair at the fewest API calls.

Needed pairs run from the later of the start date and the listing date to the
earlier of the end date and the delisting date. Missing = needed minus covered,
so holes anywhere in history are found, not only the tail.

Two kinds of call fill them:

* a market call requests one trading day of every stock (`trade_date=`), and
* a symbol call requests some codes over a date range (`ts_code=` plus dates).

The planner tries a few ways to split the missing pairs between the two and
keeps the one with the fewest calls (ties go to fewer jobs), then packs calls
into units, one Snakemake job and one part each.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tslake.consistency import Retraction, apply_retractions
from tslake.coverage import covered_matrix
from tslake.parts import PartInfo, Segment
from tslake.registry import Dataset
from tslake.universe import Universe

# Code-list calls cut a range into windows of at most cap / WINDOW_FRACTION days.
WINDOW_FRACTION = 4
# Shares of a day's needed symbols that must be missing for a market call to be tried.
MARKET_SHARES: tuple[float, ...] = (0.0, 0.5, 1.0)


@dataclass(frozen=True)
class Call:
    """One API request and the coverage its response gives."""

    params: dict[str, str]
    rows: int  # upper bound: needed pairs inside the request
    segment: Segment

    def to_json(self) -> dict[str, Any]:
        return {"params": self.params, "rows": self.rows, "segment": self.segment.to_json()}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Call:
        return cls(dict(value["params"]), int(value["rows"]), Segment.from_json(value["segment"]))


@dataclass(frozen=True)
class Unit:
    """A batch of calls fetched by one job into one part."""

    dataset: str
    unit_id: str
    scope: str  # "market" or "symbols"
    calls: tuple[Call, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "unit_id": self.unit_id,
            "scope": self.scope,
            "calls": [call.to_json() for call in self.calls],
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Unit:
        calls = tuple(Call.from_json(item) for item in value["calls"])
        return cls(value["dataset"], value["unit_id"], value["scope"], calls)


@dataclass
class DatasetPlan:
    """The units for one dataset and the figures the plan summary prints."""

    dataset: str
    start: str
    end: str
    units: list[Unit] = field(default_factory=list)
    missing_pairs: int = 0
    symbols: int = 0
    first_missing: str | None = None
    last_missing: str | None = None
    # Minimum calls the row cap allows for the missing pairs (see `lower_bound`).
    lower_bound: int = 0

    @property
    def calls(self) -> int:
        return sum(len(unit.calls) for unit in self.units)


@dataclass(frozen=True)
class _Run:
    code_index: int
    first: int
    last: int
    rows: int
    elastic_first: int
    elastic_last: int


def _needed_spans(
    universe: Universe, codes: np.ndarray, days: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per code, the first and last needed day index (first > last when none)."""
    positions = np.searchsorted(universe.codes, codes)
    list_dates = universe.list_dates[positions]
    delist_dates = universe.delist_dates[positions]
    first = np.searchsorted(days, list_dates.astype(str), side="left")
    last = np.searchsorted(days, delist_dates.astype(str), side="right") - 1
    return first, last


def _needed_matrix(first: np.ndarray, last: np.ndarray, day_count: int) -> np.ndarray:
    index = np.arange(day_count)
    return (index >= first[:, None]) & (index <= last[:, None])


def needed_matrix(universe: Universe, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Return a bool matrix (len(codes) x len(days)): True where the code is listed on the day.

    `codes` must all be in the universe; `days` is a sorted slice of its open days.
    """
    first, last = _needed_spans(universe, codes, days)
    return _needed_matrix(first, last, len(days))


def _market_calls(
    day: str, listed: int, codes_of_day: list[str], cap: int, multi_code: bool
) -> list[Call] | None:
    """Return the calls that fetch one whole trading day, or None if the API cannot split it."""
    limit = cap - 1
    segment = Segment(None, day, day)
    if listed <= limit:
        return [Call({"trade_date": day}, listed, segment)]
    if not multi_code:
        return None
    pieces = math.ceil(len(codes_of_day) / limit)
    size = math.ceil(len(codes_of_day) / pieces)
    calls = []
    for offset in range(0, len(codes_of_day), size):
        chunk = codes_of_day[offset : offset + size]
        calls.append(Call({"ts_code": ",".join(chunk), "trade_date": day}, len(chunk), segment))
    return calls


def _residual_runs(
    residual: np.ndarray,
    needed: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
) -> list[_Run]:
    """Split each code's residual missing days into runs that no fetched or market day interrupts."""
    runs: list[_Run] = []
    day_count = residual.shape[1]
    blockers = needed & ~residual
    for row in np.flatnonzero(residual.any(axis=1)):
        positions = np.flatnonzero(residual[row])
        groups = np.cumsum(blockers[row])[positions]
        breaks = np.flatnonzero(np.diff(groups)) + 1
        for chunk in np.split(positions, breaks):
            run_first, run_last = int(chunk[0]), int(chunk[-1])
            # Days before listing and after delisting hold no rows, so a request may include them.
            elastic_first = 0 if run_first == first[row] else run_first
            # A delisted stock may share a code list whose range runs past its delisting,
            # because it has no rows there. No call covers only days after its delisting.
            elastic_last = day_count - 1 if run_last == last[row] else run_last
            runs.append(
                _Run(int(row), run_first, run_last, len(chunk), elastic_first, elastic_last)
            )
    return runs


def _split_long_run(run: _Run, limit: int) -> list[_Run]:
    """Cut a run whose rows exceed the row cap into consecutive pieces under it."""
    if run.rows <= limit:
        return [run]
    pieces = []
    for offset in range(0, run.rows, limit):
        piece_first = run.first + offset
        piece_last = min(run.first + offset + limit - 1, run.last)
        pieces.append(
            _Run(
                run.code_index,
                piece_first,
                piece_last,
                piece_last - piece_first + 1,
                run.elastic_first if offset == 0 else piece_first,
                run.elastic_last if piece_last == run.last else piece_last,
            )
        )
    return pieces


def _symbol_calls(
    runs: list[_Run], codes: np.ndarray, days: np.ndarray, cap: int, multi_code: bool
) -> list[Call]:
    """Turn runs into symbol calls: code lists under the cap where the API takes them, else one code each."""
    limit = cap - 1
    if not multi_code:
        pieces = [piece for run in runs for piece in _split_long_run(run, limit)]
        pieces.sort(key=lambda piece: (codes[piece.code_index], piece.first))
        return [
            _symbol_call([piece], codes, days[piece.first], days[piece.last]) for piece in pieces
        ]
    by_range: dict[tuple[int, int], list[_Run]] = {}
    for run in runs:
        by_range.setdefault((run.elastic_first, run.elastic_last), []).append(run)
    calls: list[Call] = []
    for (low, high), members in sorted(by_range.items()):
        calls += _pack_code_lists(members, low, high, codes, days, limit)
    return calls


def _pack_code_lists(
    members: list[_Run], low: int, high: int, codes: np.ndarray, days: np.ndarray, limit: int
) -> list[Call]:
    """Pack runs that share a request range into code-list calls of at most `limit` rows.

    The range is cut into windows of at most a quarter of the cap in days, so
    no single code fills a call, and each window's codes are packed first-fit
    by decreasing row count. The calls then come close to total rows / limit.
    """
    window = max(1, limit // WINDOW_FRACTION)
    count = math.ceil((high - low + 1) / window)
    bounds = np.linspace(low, high + 1, count + 1).astype(int)
    firsts = np.array([run.first for run in members])
    lasts = np.array([run.last for run in members])
    calls: list[Call] = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        cells = np.minimum(lasts, stop - 1) - np.maximum(firsts, start) + 1
        order = [index for index in np.argsort(-cells, kind="stable") if cells[index] > 0]
        bins: list[tuple[int, list[int]]] = []
        for index in order:
            size = int(cells[index])
            for position, (used, member_indexes) in enumerate(bins):
                if used + size <= limit:
                    bins[position] = (used + size, member_indexes + [index])
                    break
            else:
                bins.append((size, [index]))
        for used, member_indexes in bins:
            names = tuple(sorted(str(codes[members[i].code_index]) for i in member_indexes))
            first_day, last_day = str(days[start]), str(days[stop - 1])
            params = {"ts_code": ",".join(names), "start_date": first_day, "end_date": last_day}
            calls.append(Call(params, used, Segment(names, first_day, last_day)))
    return calls


def _symbol_call(batch: list[Any], codes: np.ndarray, start: str, end: str) -> Call:
    names = tuple(str(codes[piece.code_index]) for piece in batch)
    params = {"ts_code": ",".join(names), "start_date": start, "end_date": end}
    return Call(params, sum(piece.rows for piece in batch), Segment(names, start, end))


def unit_id_of(dataset: str, scope: str, calls: list[Call]) -> str:
    digest = hashlib.sha256(
        json.dumps([call.params for call in calls], sort_keys=True).encode()
    ).hexdigest()[:10]
    start = min(call.segment.start for call in calls)
    end = max(call.segment.end for call in calls)
    prefix = "m" if scope == "market" else "s"
    return f"{prefix}{start}-{end}-{digest}"


def _pack_units(dataset: str, scope: str, calls: list[Call], per_unit: int) -> list[Unit]:
    units = []
    for offset in range(0, len(calls), per_unit):
        chunk = calls[offset : offset + per_unit]
        units.append(Unit(dataset, unit_id_of(dataset, scope, chunk), scope, tuple(chunk)))
    return units


def lower_bound(missing: np.ndarray, cap: int, multi_code: bool) -> tuple[int, int]:
    """Return a lower bound on the calls any plan needs for the missing pairs, and a day-call count.

    No call returns more than cap - 1 usable rows. Where the API takes one
    code per call, a call covers one code's days or one whole day. A plan with
    k day calls then still needs ceil(remaining / (cap - 1)) calls per code.
    The bound is the smallest such total over k, and that k is returned as a
    hint for how many whole-market days a good plan uses.
    """
    limit = cap - 1
    by_rows = math.ceil(int(missing.sum()) / limit)
    if multi_code:
        return by_rows, 0
    per_code = np.sort(missing.sum(axis=1))
    per_code = per_code[per_code > 0]
    steps = np.arange(0, math.ceil(per_code.max() / limit) + 1) * limit
    candidates = np.unique(
        np.clip(np.concatenate([per_code - step for step in steps] + [[0]]), 0, None)
    )
    best, best_k = min(
        (int(k) + int(np.ceil(np.clip(per_code - k, 0, None) / limit).sum()), int(k))
        for k in candidates
    )
    return max(by_rows, best), best_k


def _range_calls(missing: np.ndarray, days: np.ndarray) -> list[Call]:
    """Return one whole-market call per run of consecutive days with anything missing.

    Used for sparse datasets. A response that reaches the row cap is split by halving its range.
    """
    calls = []
    has_missing = missing.any(axis=0)
    positions = np.flatnonzero(has_missing)
    breaks = np.flatnonzero(np.diff(positions) > 1) + 1
    for chunk in np.split(positions, breaks):
        start, end = str(days[chunk[0]]), str(days[chunk[-1]])
        rows = int(missing[:, chunk].sum())
        calls.append(Call({"start_date": start, "end_date": end}, rows, Segment(None, start, end)))
    return calls


def _market_day_choices(
    missing_per_day: np.ndarray, listed_per_day: np.ndarray, day_hint: int
) -> list[np.ndarray | None]:
    """Return the sets of days to try as whole-market calls (None: no market day).

    Sets by the share of a day's symbols that is missing, and sets of the
    `day_hint` days (and half and 1.5 times as many) with the most missing
    symbols, preferring later days on ties.
    """
    # Market days come first, so they win ties: one call per new day also records the
    # day as covered for the whole market and lets the completeness check run.
    choices: list[np.ndarray | None] = []
    has_missing = missing_per_day > 0
    for share in MARKET_SHARES:
        choices.append(has_missing & (missing_per_day >= share * listed_per_day))
    order = np.lexsort((-np.arange(len(missing_per_day)), -missing_per_day))
    for count in sorted({day_hint // 2, day_hint, day_hint * 3 // 2} - {0}):
        chosen = np.zeros(len(missing_per_day), dtype=bool)
        chosen[order[:count]] = True
        choices.append(chosen & has_missing)
    choices.append(None)
    return choices


def plan_dataset(
    dataset: Dataset,
    universe: Universe,
    parts: list[PartInfo],
    *,
    start: str,
    end: str,
    cap: int,
    symbols: tuple[str, ...] | None = None,
    retractions: list[Retraction] | None = None,
) -> tuple[DatasetPlan, list[Call], list[Call]]:
    """Work out the missing pairs of `dataset` and the cheapest calls that fill them.

    Returns the plan (without units yet) and the chosen market and symbol calls;
    `pack` turns the calls into units.
    """
    plan = DatasetPlan(dataset.name, start, end)
    days = universe.days_between(start, end)
    if symbols is None:
        codes = universe.codes
    else:
        known = set(universe.codes)
        codes = np.array([code for code in symbols if code in known], dtype=object)
    if len(days) == 0 or len(codes) == 0:
        return plan, [], []
    first, last = _needed_spans(universe, codes, days)
    needed = _needed_matrix(first, last, len(days))
    covered = covered_matrix(parts, codes, days)
    apply_retractions(covered, parts, retractions or [], codes, days)
    missing = needed & ~covered
    if not missing.any():
        return plan, [], []
    plan.missing_pairs = int(missing.sum())
    plan.symbols = int(missing.any(axis=1).sum())
    missing_days = np.flatnonzero(missing.any(axis=0))
    plan.first_missing = str(days[missing_days[0]])
    plan.last_missing = str(days[missing_days[-1]])
    plan.lower_bound, day_hint = lower_bound(missing, cap, dataset.multi_code)

    if dataset.sparse and symbols is None:
        calls = _range_calls(missing, days)
        # Rows are few, so the bound is one call per run of missing days.
        plan.lower_bound = len(calls)
        return plan, calls, []
    listed_per_day = needed.sum(axis=0)
    missing_per_day = missing.sum(axis=0)
    # Market calls fetch every stock, so they only fit a whole-market group.
    choices = (
        [None]
        if symbols is not None
        else _market_day_choices(missing_per_day, listed_per_day, day_hint)
    )
    best: tuple[int, int, list[Call], list[Call]] | None = None
    for chosen in choices:
        market_calls: list[Call] = []
        market_days = np.zeros(len(days), dtype=bool)
        if chosen is not None:
            for index in np.flatnonzero(chosen):
                day = str(days[index])
                listed_codes = codes[needed[:, index]].tolist()
                calls = _market_calls(
                    day, int(listed_per_day[index]), listed_codes, cap, dataset.multi_code
                )
                if calls is None:
                    continue
                market_calls.extend(calls)
                market_days[index] = True
        residual = missing & ~market_days[None, :]
        runs = _residual_runs(residual, needed, first, last)
        symbol_calls = _symbol_calls(runs, codes, days, cap, dataset.multi_code)
        total = len(market_calls) + len(symbol_calls)
        groups = int(bool(market_calls)) + int(bool(symbol_calls))
        if best is None or (total, groups) < (best[0], best[1]):
            best = (total, groups, market_calls, symbol_calls)
    assert best is not None
    return plan, best[2], best[3]


def pack(
    plan: DatasetPlan, market_calls: list[Call], symbol_calls: list[Call], per_unit: int
) -> None:
    """Fill `plan.units`: consecutive market days and sorted symbol calls, `per_unit` calls each."""
    plan.units = _pack_units(plan.dataset, "market", market_calls, per_unit)
    plan.units += _pack_units(plan.dataset, "symbols", symbol_calls, per_unit)


def calls_per_unit(total_calls: int, configured: int, max_jobs: int) -> int:
    """Return the calls per unit: the configured size, raised so the units fit in `max_jobs`."""
    if total_calls == 0:
        return configured
    return max(configured, math.ceil(total_calls / max(1, max_jobs)))
