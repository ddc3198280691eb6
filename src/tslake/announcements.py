"""Plan announcement datasets: statements per symbol, dividends and disclosure dates by day.

These datasets are covered per symbol "as of" a calendar day (see
`coverage.asof_dates`). Statement APIs take one `ts_code` and filter the
announcement day. After the first full download, a symbol is requested again only
when the disclosure index (`disclosure_date` by actual day) shows that it
announced a report since its as-of day, or within `correction_days` before it.
Event APIs (dividend, disclosure_date) take a one-day cross-section or one symbol's
whole history, and the planner picks the cheaper mix of the two.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, time, timedelta

import pyarrow.compute as pc
import pyarrow.parquet as pq

from tslake.clock import SHANGHAI, parse_yyyymmdd, yyyymmdd
from tslake.coverage import asof_dates, asof_from_spans, covered_spans, next_day
from tslake.parts import PartInfo, Segment
from tslake.planner import Call, DatasetPlan, Unit, unit_id_of
from tslake.registry import DISCLOSURE_DATE, Dataset
from tslake.universe import Universe


def announcement_end(now: datetime, publish_time: time, lag_days: int) -> str:
    """Return the newest calendar day whose announcements are final at `now` (Shanghai time).

    Day D is final from `publish_time` on day D + `lag_days`.
    """
    local = now.astimezone(SHANGHAI)
    day = local.date() - timedelta(days=lag_days)
    if local.time() < publish_time:
        day -= timedelta(days=1)
    return yyyymmdd(day)


def shift_day(day: str, days: int) -> str:
    return yyyymmdd(parse_yyyymmdd(day) + timedelta(days=days))


def calendar_days(start: str, end: str) -> list[str]:
    """Return every calendar day from `start` to `end`, inclusive."""
    first, last = parse_yyyymmdd(start), parse_yyyymmdd(end)
    return [yyyymmdd(first + timedelta(days=offset)) for offset in range((last - first).days + 1)]


def needed_until(universe: Universe, symbols: tuple[str, ...] | None, end: str) -> dict[str, str]:
    """Return, per symbol of the group listed by `end`, the day its coverage must reach.

    That is `end`, or the delisting day for a delisted symbol: announcements after
    delisting are not expected.
    """
    selected = set(symbols) if symbols is not None else None
    result = {}
    for code, listed, delisted in zip(
        universe.codes, universe.list_dates, universe.delist_dates, strict=True
    ):
        if selected is not None and code not in selected:
            continue
        if listed > end:
            continue
        result[str(code)] = min(end, str(delisted))
    return result


def statement_parts(parts: list[PartInfo], report_types: tuple[str, ...]) -> list[PartInfo]:
    """Return the parts whose coverage counts for the configured report types.

    A part fetched for fewer report types than configured now does not cover its
    symbols, so they are fetched again in full for every type.
    """
    wanted = set(report_types)
    return [part for part in parts if wanted <= set(part.notes.get("report_types", wanted))]


def index_coverage_end(parts: list[PartInfo], start: str) -> str | None:
    """Return the last day up to which the disclosure index covers every day from `start`."""
    return asof_dates(parts, ["*"], start).get("*")


def read_announcers(parts: list[PartInfo], after: str, end: str) -> dict[str, list[str]]:
    """Return, per symbol, the days in (after, end] on which the index shows an announcement."""
    column = DISCLOSURE_DATE.date_column or "actual_date"
    announcers: dict[str, list[str]] = {}
    for part in parts:
        table = pq.read_table(part.path, columns=["ts_code", column])
        dates = table.column(column)
        mask = pc.and_(pc.greater(dates, after), pc.less_equal(dates, end))
        table = table.filter(pc.fill_null(mask, False))
        for code, day in zip(
            table.column("ts_code").to_pylist(), table.column(column).to_pylist(), strict=True
        ):
            announcers.setdefault(code, []).append(day)
    return announcers


def index_days(
    asofs: Iterable[str], index_parts: list[PartInfo], correction_days: int, end: str
) -> list[str]:
    """Return the announcement days the index must hold before statements can be planned.

    Those are the days after the earliest statement as-of day (less the correction
    window) up to `end`, minus the days already covered.
    """
    earliest = min(asofs, default=None)
    if earliest is None:
        return []
    first = shift_day(earliest, 1 - correction_days)
    if first > end:
        return []
    covered = _market_days(index_parts)
    return [day for day in calendar_days(first, end) if day not in covered]


def _market_days(parts: list[PartInfo]) -> set[str]:
    days: set[str] = set()
    for part in parts:
        for segment in part.segments:
            if segment.symbols is None:
                days.update(calendar_days(segment.start, segment.end))
    return days


def plan_statement(
    dataset: Dataset,
    universe: Universe,
    parts: list[PartInfo],
    *,
    start: str,
    end: str,
    symbols: tuple[str, ...] | None,
    announcers: dict[str, list[str]],
    index_end: str | None,
    correction_days: int,
    report_types: tuple[str, ...],
    cap: int = 1_000_000,
) -> tuple[DatasetPlan, list[list[Call]]]:
    """Return the plan figures and, per symbol to request, its calls (one per report type).

    A symbol with no coverage is requested with its whole history. A covered symbol
    is requested from the day after its as-of day when the index shows an
    announcement after (as-of day - `correction_days`). Otherwise it is up to date.
    Incremental requests reach only as far as the index does (`index_end`).
    """
    plan = DatasetPlan(dataset.name, start, end)
    types = report_types if dataset.report_types else (None,)
    usable = statement_parts(parts, report_types) if dataset.report_types else parts
    needed = needed_until(universe, symbols, end)
    listed = dict(zip(universe.codes, universe.list_dates, strict=True))
    spans_by_code = covered_spans(usable, needed)
    groups: list[list[Call]] = []
    for code, need_end in needed.items():
        spans = spans_by_code[code]
        covered_to = asof_from_spans(spans, start)
        if covered_to is None:
            claim_start, request_start, claim_end = start, start, end
        elif covered_to >= need_end:
            continue
        else:
            # A hole (coverage resumes after the as-of day, so a file was deleted) is
            # filled whatever the index shows. A stale tail is filled only when the
            # index shows a new announcement.
            hole = spans[-1][1] > covered_to
            if hole:
                resumes = next(first for first, _ in spans if first > covered_to)
                claim_end = shift_day(resumes, -1)
            else:
                claim_end = min(index_end or covered_to, end)
            if claim_end <= covered_to:
                continue
            window_start = shift_day(covered_to, -correction_days)
            days = announcers.get(code, [])
            if not hole and not any(window_start < day <= claim_end for day in days):
                continue
            claim_start = next_day(covered_to)
            request_start = max(start, shift_day(claim_start, -dataset.lookback_days))
        segment = Segment((code,), claim_start, claim_end)
        first_report = max(request_start, listed[code])
        calls = []
        for report_type in types:
            for low, high in split_range(request_start, first_report, claim_end, cap):
                params = {"ts_code": code, "start_date": low, "end_date": high}
                if report_type is not None:
                    params["report_type"] = report_type
                calls.append(Call(params, 0, segment))
        groups.append(calls)
    _fill_figures(plan, groups)
    return plan, groups


# Rows a symbol has per year and report type: four reports and some corrections. Long
# requests are split in advance so that they stay under the row cap: a request that
# reaches the cap costs one wasted call before it is split.
ROWS_PER_YEAR = 4.5
CAP_USE = 0.9


def split_range(start: str, first_report: str, end: str, cap: int) -> list[tuple[str, str]]:
    """Split [start, end] into ranges that each hold fewer rows than `cap`, by estimate.

    Rows are expected from `first_report` (the listing day) on; the first range
    keeps the full `start` so no earlier row is missed.
    """
    first = parse_yyyymmdd(max(start, first_report))
    last = parse_yyyymmdd(end)
    years = max((last - first).days, 0) / 365.25
    pieces = max(1, math.ceil(years * ROWS_PER_YEAR / (cap * CAP_USE)))
    if pieces == 1:
        return [(start, end)]
    step = (last - first) / pieces
    bounds = [first + step * index for index in range(1, pieces)]
    starts = [start] + [yyyymmdd(bound + timedelta(days=1)) for bound in bounds]
    ends = [yyyymmdd(bound) for bound in bounds] + [end]
    return list(zip(starts, ends, strict=True))


def _fill_figures(plan: DatasetPlan, groups: list[list[Call]]) -> None:
    if not groups:
        return
    segments = [calls[0].segment for calls in groups]
    plan.symbols = len({code for segment in segments for code in segment.symbols or ()})
    plan.missing_pairs = plan.symbols
    plan.first_missing = min(segment.start for segment in segments)
    plan.last_missing = max(segment.end for segment in segments)
    # Each asked symbol and report type (or day) needs at least one call.
    plan.lower_bound = len(
        {
            tuple(sorted((k, v) for k, v in call.params.items() if not k.endswith("_date")))
            or tuple(sorted(call.params.items()))
            for calls in groups
            for call in calls
        }
    )


def plan_event(
    dataset: Dataset,
    universe: Universe,
    parts: list[PartInfo],
    *,
    start: str,
    end: str,
    symbols: tuple[str, ...] | None,
) -> tuple[DatasetPlan, list[list[Call]]]:
    """Return the plan figures and the call groups of an event dataset.

    Symbols with the oldest as-of days are requested with their whole history, one
    call each. Every later day is requested as a whole-market cross-section, one
    call per one-day parameter. The split point is the one with the fewest calls,
    and ties go to day calls. Days of events not yet at their final stage are
    requested again.
    """
    plan = DatasetPlan(dataset.name, start, end)
    needed = needed_until(universe, symbols, end)
    asof = asof_dates(parts, needed, start)
    behind = sorted(
        (
            (asof.get(code), code)
            for code, need_end in needed.items()
            if asof.get(code, "") < need_end
        ),
        key=lambda item: item[0] or "",
    )
    if not behind:
        return plan, []
    # Choosing k: the k most behind symbols get whole-history calls, the rest get the
    # days after the (k+1)-th as-of day.
    last = parse_yyyymmdd(end)
    per_day = 1 + len(dataset.extra_day_params)
    best_k, best_cost = 0, math.inf
    for k in range(len(behind) + 1):
        day_count = 0
        if k < len(behind):
            first_day = parse_yyyymmdd(next_day(behind[k][0]) if behind[k][0] else start)
            day_count = max(0, (last - first_day).days + 1)
        cost = k + day_count * per_day
        if cost < best_cost:
            best_k, best_cost = k, cost
    groups: list[list[Call]] = []
    for _, code in behind[:best_k]:
        segment = Segment((code,), start, end)
        groups.append([Call({"ts_code": code}, 0, segment)])
    new_days: list[str] = []
    if best_k < len(behind):
        first_day = next_day(behind[best_k][0]) if behind[best_k][0] else start
        new_days = calendar_days(first_day, end) if first_day <= end else []
        groups += day_calls(dataset, new_days)
    # Days of events that may have reached a later stage since are asked again, unless
    # every symbol with such an event is asked for its whole history anyway.
    in_full = {code for _, code in behind[:best_k]}
    open_days = open_event_days(dataset, parts, shift_day(end, -dataset.revisit_days), end)
    revisits = [day for day, codes in open_days.items() if codes - in_full]
    param = dataset.cross_section_param or "ann_date"
    for day in sorted(set(revisits) - set(new_days)):
        groups.append([Call({param: day}, 0, Segment(None, day, day))])
    _fill_figures(plan, groups)
    plan.symbols = len(behind)
    plan.missing_pairs = len(behind)
    plan.lower_bound = min(len(behind), int(best_cost)) + len(set(revisits) - set(new_days))
    return plan, groups


def open_event_days(
    dataset: Dataset, parts: list[PartInfo], since: str, end: str
) -> dict[str, set[str]]:
    """Return the announcement days in [since, end] with events not yet at their final stage,
    and the symbols of those events."""
    if dataset.final_stage is None or not parts:
        return {}
    column, final = dataset.final_stage
    day_column = dataset.date_column or "ann_date"
    names = ["ts_code", "end_date", day_column, column]
    table = pq.read_table([str(part.path) for part in parts], columns=names)
    days = table.column(day_column)
    table = table.filter(
        pc.fill_null(pc.and_(pc.greater_equal(days, since), pc.less_equal(days, end)), False)
    )
    events: set[tuple[str, str, str]] = set()
    finished: set[tuple[str, str, str]] = set()
    for code, period, day, stage in zip(
        *(table.column(name).to_pylist() for name in names), strict=True
    ):
        events.add((code, period, day))
        if stage == final:
            finished.add((code, period, day))
    result: dict[str, set[str]] = {}
    for code, _, day in sorted(events - finished):
        result.setdefault(day, set()).add(code)
    return result


def day_calls(dataset: Dataset, days: list[str]) -> list[list[Call]]:
    """Return, per day, the whole-market calls that cover it: one per one-day parameter."""
    params = (dataset.cross_section_param or "ann_date", *dataset.extra_day_params)
    return [[Call({param: day}, 0, Segment(None, day, day)) for param in params] for day in days]


def pack_groups(dataset: str, groups: list[list[Call]], per_unit: int) -> list[Unit]:
    """Pack call groups into units of about `per_unit` calls, never splitting a group.

    A group contains the calls of one symbol (one per report type). They must land in
    one part, because its coverage is recorded only when all of them succeeded.
    """
    units: list[Unit] = []
    batch: list[Call] = []
    for calls in groups:
        batch.extend(calls)
        if len(batch) >= per_unit:
            units.append(_unit(dataset, batch))
            batch = []
    if batch:
        units.append(_unit(dataset, batch))
    return units


def _unit(dataset: str, calls: list[Call]) -> Unit:
    scope = "market" if all(call.segment.symbols is None for call in calls) else "symbols"
    return Unit(dataset, unit_id_of(dataset, scope, calls), scope, tuple(calls))


def statement_asofs(
    datasets: list[Dataset],
    parts_by_dataset: dict[str, list[PartInfo]],
    universe: Universe,
    symbols: tuple[str, ...] | None,
    start: str,
    end: str,
    report_types: tuple[str, ...],
) -> list[str]:
    """Return the as-of days of the statement symbols whose index-planned tail is not up to date.

    Symbols never fetched, and symbols with a hole (filled in full anyway), need no index.
    """
    values: list[str] = []
    needed = needed_until(universe, symbols, end)
    for dataset in datasets:
        parts = parts_by_dataset[dataset.name]
        usable = statement_parts(parts, report_types) if dataset.report_types else parts
        for code, spans in covered_spans(usable, needed).items():
            day = asof_from_spans(spans, start)
            if day is not None and day < needed[code] and spans[-1][1] == day:
                values.append(day)
    return values
