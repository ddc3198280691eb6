"""Refresh the reference snapshots, `stock_basic` and `trade_cal`, once per run date."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from tslake.clock import SHANGHAI, parse_yyyymmdd, yyyymmdd
from tslake.fetch import fetch_complete
from tslake.parts import conform, write_part
from tslake.registry import LIST_STATUSES, STOCK_BASIC, TRADE_CAL, Dataset
from tslake.tushare_api import TushareClient, TushareError

log = logging.getLogger(__name__)

EXCHANGES = ("SSE", "SZSE", "BSE")
CALENDAR_START = "19900101"


def snapshot_name(as_of: str) -> str:
    return f"snapshot-{as_of}.parquet"


def _no_split(day: str) -> list[str]:
    raise TushareError(f"无法拆分按日期 {day} 的参考数据请求")


def fetch_stock_basic(client: TushareClient, cap: int) -> pd.DataFrame:
    """Fetch listed, delisted and paused stocks, splitting by exchange when a status hits the cap."""
    frames = []
    for status in LIST_STATUSES:
        params = {"list_status": status}
        frame = client.query(STOCK_BASIC.api, params, STOCK_BASIC.column_names)
        if len(frame) >= cap:
            log.info("stock_basic list_status=%s 达到行数上限，按交易所拆分", status)
            frame = pd.concat(
                [
                    _checked(
                        client.query(
                            STOCK_BASIC.api, {**params, "exchange": name}, STOCK_BASIC.column_names
                        ),
                        cap,
                    )
                    for name in EXCHANGES
                ],
                ignore_index=True,
            )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True).drop_duplicates("ts_code", keep="first")


def _checked(frame: pd.DataFrame, cap: int) -> pd.DataFrame:
    if len(frame) >= cap:
        raise TushareError(
            f"stock_basic 单个交易所返回 {len(frame)} 行，达到行数上限 {cap}：请在 row_caps 中调高 stock_basic。"
        )
    return frame


def fetch_trade_cal(client: TushareClient, cap: int, last_day: str) -> pd.DataFrame:
    """Fetch the SSE calendar from 1990 to `last_day` in ranges of fewer calendar days than the cap."""
    frames = []
    start = parse_yyyymmdd(CALENDAR_START)
    last = parse_yyyymmdd(last_day)
    while start <= last:
        end = min(last, start + timedelta(days=cap - 2))
        params = {
            **TRADE_CAL.fixed_params,
            "start_date": yyyymmdd(start),
            "end_date": yyyymmdd(end),
        }
        frames += fetch_complete(client, TRADE_CAL, params, cap, _no_split)
        start = end + timedelta(days=1)
    return pd.concat(frames, ignore_index=True).drop_duplicates(list(TRADE_CAL.key))


def write_snapshot(
    dataset: Dataset, frame: pd.DataFrame, output: Path, as_of: str, calls: int
) -> None:
    """Write a snapshot part; older snapshots stay until the catalog no longer reads them."""
    table = conform(frame, dataset)
    write_part(
        output,
        dataset,
        table,
        scope="snapshot",
        segments=[],
        fetched_at=datetime.now(SHANGHAI).isoformat(timespec="microseconds"),
        calls=calls,
        as_of=as_of,
    )
    log.info("%s 快照（%s）：%d 行 -> %s", dataset.name, as_of, table.num_rows, output)
