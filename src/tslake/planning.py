"""Make the run's plan: end dates, units per dataset, and the files the workflow reads.

A plan folder contains `plan.json` (every unit and the summary figures),
`summary.txt` (the Chinese summary) and `units/<dataset>/<unit_id>.json`, the
one file each fetch job reads.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from tslake.announcements import (
    announcement_end,
    index_coverage_end,
    pack_groups,
    plan_event,
    plan_statement,
    read_announcers,
    shift_day,
    statement_asofs,
)
from tslake.clock import SHANGHAI, last_published_day
from tslake.config import Settings
from tslake.consistency import read_retractions
from tslake.coverage import read_parts
from tslake.parts import PartInfo
from tslake.planner import Call, DatasetPlan, Unit, calls_per_unit, pack, plan_dataset
from tslake.registry import ANNOUNCEMENT_INDEX, DATASETS, Dataset
from tslake.summary import format_plan_summary
from tslake.universe import Universe, load_universe

log = logging.getLogger(__name__)


def end_date(
    settings: Settings, dataset: Dataset, open_days: list[str], now: datetime
) -> str | None:
    """Return the newest day of `dataset` already final at `now`.

    That is a trading day for daily datasets and a calendar day for announcements.
    """
    publish_time = settings.publish_time(dataset)
    if dataset.announcement:
        return announcement_end(now, publish_time, dataset.publish_lag_days)
    return last_published_day(open_days, now, publish_time)


def end_dates(settings: Settings, open_days: list[str], now: datetime) -> dict[str, str | None]:
    """Return, per planned dataset of the group, the newest day already final at `now`."""
    return {
        name: end_date(settings, DATASETS[name], open_days, now)
        for name in settings.planned_datasets
    }


def group_codes(settings: Settings, universe: Universe) -> tuple[str, ...] | None:
    """Return the codes the group selects, or None for the whole market."""
    if settings.exchanges is not None:
        return universe.codes_on(settings.exchanges)
    return settings.symbols


def make_plan(settings: Settings, now: datetime, plan_dir: Path) -> dict[str, Any]:
    """Plan every daily dataset of the group and write the plan folder."""
    universe = load_universe(settings.data_dir)
    open_days = universe.open_days.tolist()
    ends = end_dates(settings, open_days, now)
    parts_by_dataset = {
        name: read_parts(settings.data_dir, name) for name in settings.planned_datasets
    }
    symbols = group_codes(settings, universe)
    warnings = _plan_warnings(settings, universe, ends, parts_by_dataset)
    for line in warnings:
        log.warning("%s", line)
    announcers, index_end = _announcement_index(settings, universe, symbols, ends, parts_by_dataset)
    work: list[tuple[DatasetPlan, list[Call], list[Call], list[list[Call]]]] = []
    for name in settings.planned_datasets:
        dataset = DATASETS[name]
        end = ends[name]
        parts = parts_by_dataset[name]
        if end is None or end < settings.start_date:
            work.append((DatasetPlan(name, settings.start_date, end or "", []), [], [], []))
        elif dataset.kind == "statement":
            plan, groups = plan_statement(
                dataset,
                universe,
                parts,
                start=settings.start_date,
                end=end,
                symbols=symbols,
                announcers=announcers,
                index_end=index_end,
                correction_days=settings.correction_days,
                report_types=settings.report_types,
                cap=settings.row_cap(dataset),
            )
            work.append((plan, [], [], groups))
        elif dataset.kind == "event":
            plan, groups = plan_event(
                dataset,
                universe,
                parts,
                start=settings.start_date,
                end=end,
                symbols=symbols,
            )
            work.append((plan, [], [], groups))
        else:
            plan, market, symbol = plan_dataset(
                dataset,
                universe,
                parts,
                start=settings.start_date,
                end=end,
                cap=settings.row_cap(dataset),
                symbols=symbols,
                retractions=read_retractions(settings.state_dir, name),
            )
            work.append((plan, market, symbol, []))
    total_calls = sum(
        len(market) + len(symbol) + sum(len(calls) for calls in groups)
        for _, market, symbol, groups in work
    )
    per_unit = calls_per_unit(total_calls, settings.calls_per_job, settings.max_jobs)
    plans = []
    for plan, market, symbol, groups in work:
        if groups:
            plan.units = pack_groups(plan.dataset, groups, per_unit)
        else:
            pack(plan, market, symbol, per_unit)
        plans.append(plan)
    document = {
        "now": now.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "group": settings.group,
        "end_dates": ends,
        "datasets": [_plan_figures(plan, settings) for plan in plans],
        "units": [unit.to_json() for plan in plans for unit in plan.units],
        "warnings": warnings,
    }
    _write_plan(plan_dir, document, plans)
    return document


def _announcement_index(
    settings: Settings,
    universe: Universe,
    symbols: tuple[str, ...] | None,
    ends: dict[str, str | None],
    parts_by_dataset: dict[str, list[PartInfo]],
) -> tuple[dict[str, list[str]], str | None]:
    """Return who announced what day according to the disclosure index, and how far it reaches.

    The index covers the days from the earliest statement as-of day (less the
    correction window); `refresh_announcements` fetched them before the plan.
    """
    statements = [DATASETS[name] for name in settings.statement_datasets]
    ends_known = [ends[dataset.name] for dataset in statements if ends[dataset.name]]
    if not ends_known:
        return {}, None
    end = max(ends_known)
    asofs = statement_asofs(
        statements,
        parts_by_dataset,
        universe,
        symbols,
        settings.start_date,
        end,
        settings.report_types,
    )
    if not asofs:
        return {}, end
    first = shift_day(min(asofs), 1 - settings.correction_days)
    index_parts = read_parts(settings.data_dir, ANNOUNCEMENT_INDEX)
    index_end = index_coverage_end(index_parts, first) or shift_day(first, -1)
    announcers = read_announcers(index_parts, shift_day(first, -1), index_end)
    return announcers, min(index_end, end)


def _plan_warnings(
    settings: Settings,
    universe: Universe,
    ends: dict[str, str | None],
    parts_by_dataset: dict[str, list[PartInfo]],
) -> list[str]:
    """Return Chinese warnings about settings that make the plan do less than a user may expect."""
    warnings = []
    if settings.symbols is not None:
        unknown = sorted(set(settings.symbols) - set(universe.codes.tolist()))
        if unknown:
            warnings.append(
                f"任务组 {settings.group} 中的代码不在 stock_basic 中，已忽略：{'、'.join(unknown)}。"
            )
    if settings.exchanges is not None and not universe.codes_on(settings.exchanges):
        warnings.append(
            f"任务组 {settings.group} 选择的交易所 {'、'.join(settings.exchanges)} 在 stock_basic 中"
            "没有任何股票：本次不会下载行情数据。请检查 groups 中的 exchanges。"
        )
    today = max((end for end in ends.values() if end), default="")
    if today and settings.start_date > today:
        warnings.append(
            f"start_date {settings.start_date} 晚于最新已发布的交易日 {today}：本次没有需要下载的数据。"
        )
    for name, end in ends.items():
        newest = max(
            (segment.end for part in parts_by_dataset[name] for segment in part.segments),
            default="",
        )
        if end and newest > end:
            warnings.append(
                f"now 早于数据湖中 {name} 已有的最新日期 {newest}：数据湖不会回退，"
                "只会补齐到 now 为止缺少的部分。若要重现过去某天的状态，请用另一个 data_dir。"
            )
            break
    return warnings


def _plan_figures(plan: DatasetPlan, settings: Settings) -> dict[str, Any]:
    figures = asdict(plan)
    figures.pop("units")
    figures["units"] = len(plan.units)
    figures["calls"] = plan.calls
    figures["calls_per_minute"] = settings.calls_per_minute(DATASETS[plan.dataset].api)
    return figures


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, path)


def _write_plan(plan_dir: Path, document: dict[str, Any], plans: list[DatasetPlan]) -> None:
    for plan in plans:
        for unit in plan.units:
            _write_json(plan_dir / "units" / unit.dataset / f"{unit.unit_id}.json", unit.to_json())
    summary = format_plan_summary(document)
    (plan_dir / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    _write_json(plan_dir / "plan.json", document)


def read_plan(plan_dir: Path) -> dict[str, Any]:
    return json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))


def read_unit(path: Path) -> Unit:
    return Unit.from_json(json.loads(path.read_text(encoding="utf-8")))
