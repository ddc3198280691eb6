"""Fetch one unit: run its calls, split any response that hit the row cap, write one part."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from tslake.clock import SHANGHAI, parse_yyyymmdd, yyyymmdd
from tslake.parts import Segment, conform, write_part
from tslake.planner import Unit
from tslake.progress import FetchProgress
from tslake.registry import Dataset
from tslake.suspensions import Suspensions
from tslake.tushare_api import TushareClient, TushareError
from tslake.universe import Universe
from tslake.validate import ShortDay, check_values, short_days

log = logging.getLogger(__name__)

# Share of the exact expectation (listed minus suspended) a day may lack before it is short.
EXACT_TOLERANCE = 0.005

# Returns the codes listed on a day, to split a whole-market day that hit the row cap.
ListedCodes = Callable[[str], list[str]]


def _midpoint(start: str, end: str) -> tuple[str, str]:
    """Split [start, end] into two halves; return the last day of the first and the first of the second."""
    low, high = parse_yyyymmdd(start), parse_yyyymmdd(end)
    middle = low + (high - low) // 2
    return yyyymmdd(middle), yyyymmdd(middle + timedelta(days=1))


def fetch_complete(
    client: TushareClient,
    dataset: Dataset,
    params: dict[str, str],
    cap: int,
    listed_codes: ListedCodes,
) -> list[pd.DataFrame]:
    """Return every row `params` selects, splitting requests whose response reached the row cap.

    The server drops the oldest rows past the cap without saying so, so a
    response with `cap` rows is treated as cut: a date range is halved, and a
    list of codes (or a whole-market day) is split into halves.
    """
    frame = client.query(dataset.api, params, dataset.column_names)
    if len(frame) < cap:
        return [frame]
    start, end = params.get("start_date"), params.get("end_date")
    if start and end and start < end:
        first_end, second_start = _midpoint(start, end)
        log.info("%s 返回 %d 行（达到上限），按日期拆分 %s–%s", dataset.api, len(frame), start, end)
        return fetch_complete(
            client, dataset, {**params, "end_date": first_end}, cap, listed_codes
        ) + fetch_complete(
            client, dataset, {**params, "start_date": second_start}, cap, listed_codes
        )
    if params.get("ts_code"):
        codes = params["ts_code"].split(",")
    elif params.get("trade_date"):
        codes = listed_codes(params["trade_date"])
    else:
        codes = []
    if len(codes) < 2:
        raise TushareError(
            f"接口 {dataset.api} 的请求 {params} 返回 {len(frame)} 行，达到行数上限 {cap}，"
            "且无法再拆分：请在 config/config.yaml 的 row_caps 中确认该接口的上限。"
        )
    if not dataset.multi_code:
        # The API takes one code per call, so the day is fetched code by code.
        log.warning(
            "%s 按日请求返回 %d 行（达到上限 %d），且接口不支持代码列表：改为逐只请求 %d 只股票。"
            "请在 row_caps 中设置该接口的真实上限，规划会避开这种情况。",
            dataset.api,
            len(frame),
            cap,
            len(codes),
        )
        frames = []
        for code in codes:
            frames += fetch_complete(
                client, dataset, {**params, "ts_code": code}, cap, listed_codes
            )
        return frames
    half = len(codes) // 2
    log.info("%s 返回 %d 行（达到上限），按代码拆分为两组", dataset.api, len(frame))
    frames = []
    for chunk in (codes[:half], codes[half:]):
        frames += fetch_complete(
            client, dataset, {**params, "ts_code": ",".join(chunk)}, cap, listed_codes
        )
    return frames


def schema_drift(frames: list[pd.DataFrame], dataset: Dataset) -> dict[str, list[str]]:
    """Return the columns the API sent that the registry lacks, and the declared ones it left out."""
    declared = set(dataset.column_names)
    sent: set[str] = set()
    for frame in frames:
        sent |= set(frame.columns)
    drift: dict[str, list[str]] = {}
    extra = sorted(sent - declared)
    missing = sorted(declared - sent) if sent else []
    if extra:
        drift["extra_columns"] = extra
    if missing:
        drift["missing_columns"] = missing
    return drift


def _check_market_days(
    combined: pd.DataFrame,
    dataset: Dataset,
    days: list[str],
    universe: Universe,
    tolerance: float,
    suspended: Suspensions | None,
) -> tuple[pd.DataFrame, list[ShortDay]]:
    """Drop the rows of whole-market days that came back clearly short; return the rest and the short days.

    Where `suspended` covers a day, the expectation is exact (listed minus suspended)
    and only `EXACT_TOLERANCE` applies; otherwise `tolerance` covers unknown suspensions.
    """
    date_column = dataset.date_column or "trade_date"
    if len(combined):
        counts = combined.groupby(date_column).size().to_dict()
    else:
        counts = {}
    short: list[ShortDay] = []
    for day in days:
        listed = universe.trading_codes(day)
        known = suspended.on(day) if suspended is not None else None
        if known is None:
            short += short_days(counts, {day: len(listed)}, tolerance)
        else:
            short += short_days(counts, {day: len(listed - known)}, EXACT_TOLERANCE)
    for item in short:
        log.warning(
            "接口 %s 交易日 %s 只返回 %d 行，预计约 %d 行：疑似尚未发布完整，本次不记为已覆盖，下次运行会重新下载。",
            dataset.api,
            item.day,
            item.received,
            item.expected,
        )
    if short and len(combined):
        combined = combined[~combined[date_column].isin({item.day for item in short})]
    return combined, short


def fetch_unit(
    unit: Unit,
    dataset: Dataset,
    client: TushareClient,
    cap: int,
    output: Path,
    universe: Universe,
    tolerance: float,
    suspended: Suspensions | None = None,
    progress_interval: float = 10.0,
) -> int:
    """Run every call of `unit`, check the rows, and write its part to `output`; return the rows written.

    Nothing is written unless every call succeeded, so a failed unit leaves no
    part. Whole-market days that came back clearly short are left out of the
    part and its coverage, so the next run requests them again.
    """
    frames: list[pd.DataFrame] = []
    segments = []
    market_days: dict[str, list[Segment]] = {}
    rows = 0
    label = f"单元 {unit.dataset}/{unit.unit_id}"
    with FetchProgress(label, len(unit.calls), progress_interval) as progress:
        for number, call in enumerate(unit.calls, start=1):
            fetched = fetch_complete(client, dataset, dict(call.params), cap, universe.listed_codes)
            frames += fetched
            rows += sum(len(frame) for frame in fetched)
            one_market_day = call.segment.symbols is None and call.segment.start == call.segment.end
            if one_market_day and dataset.kind == "daily" and not dataset.sparse:
                market_days.setdefault(call.segment.start, []).append(call.segment)
            else:
                segments.append(call.segment)
            progress.update(number, rows, client.calls)
    notes: dict[str, object] = {}
    if dataset.report_types:
        # Coverage of a statement part counts only for the report types it fetched.
        notes["report_types"] = sorted({call.params["report_type"] for call in unit.calls})
    drift = schema_drift(frames, dataset)
    if drift.get("extra_columns"):
        log.warning(
            "接口 %s 返回了登记表中没有的列 %s：已忽略", dataset.api, drift["extra_columns"]
        )
    if drift.get("missing_columns"):
        log.warning("接口 %s 缺少列 %s：这些列存为空值", dataset.api, drift["missing_columns"])
    if drift:
        notes["schema_drift"] = drift
    non_empty = [frame for frame in frames if len(frame)]
    combined = pd.concat(non_empty, ignore_index=True) if non_empty else pd.DataFrame()
    findings = check_values(dataset, combined, universe.open_days)
    if findings:
        notes["findings"] = findings
    if len(combined):
        combined = combined.drop_duplicates(subset=list(dataset.key), keep="first")
    if market_days:
        combined, short = _check_market_days(
            combined, dataset, sorted(market_days), universe, tolerance, suspended
        )
        short_set = {item.day for item in short}
        for day, day_segments in sorted(market_days.items()):
            if day not in short_set:
                segments.extend(day_segments[:1])
        if short:
            notes["short_days"] = [item.to_json() for item in short]
    table = conform(combined, dataset)
    write_part(
        output,
        dataset,
        table,
        scope=unit.scope,
        # Calls for several report types of one symbol share one segment.
        segments=list(dict.fromkeys(segments)),
        fetched_at=datetime.now(SHANGHAI).isoformat(timespec="microseconds"),
        calls=client.calls,
        notes=notes,
    )
    log.info(
        "单元 %s：写入 %d 行，调用接口 %d 次 -> %s",
        unit.unit_id,
        table.num_rows,
        client.calls,
        output,
    )
    return table.num_rows
