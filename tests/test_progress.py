"""Progress lines of fetch jobs: computed from an injected clock, and logged by a real fetch."""

from __future__ import annotations

import logging
import re

import pyarrow.parquet as pq
import pytest

from tslake.fetch import fetch_unit
from tslake.parts import Segment
from tslake.planner import Call, Unit
from tslake.progress import FetchProgress, format_duration
from tslake.reference import fetch_stock_basic, fetch_trade_cal, write_snapshot
from tslake.registry import DATASETS, STOCK_BASIC, TRADE_CAL
from tslake.server import ServerConfig, SimMarket, start_server
from tslake.tushare_api import TushareClient
from tslake.universe import load_universe

NOW = "2024-06-14T20:00"
DAYS = ["20240607", "20240611", "20240612", "20240613", "20240614"]
DELAY = 0.8
INTERVAL = 1.0


class StepClock:
    """A clock that returns the given times in order, then repeats the last one."""

    def __init__(self, *times: float) -> None:
        self.times = list(times)

    def __call__(self) -> float:
        return self.times.pop(0) if len(self.times) > 1 else self.times[0]


def test_progress_line_rates_and_estimate():
    progress = FetchProgress("单元 daily/m1", total=120, interval=10, clock=StepClock(100.0, 160.0))
    progress.update(30, 150_000, 32)
    line = progress.line()
    assert "单元 daily/m1" in line
    assert "30/120 次请求（25%）" in line
    assert "已收到 150000 行" in line
    assert "实际调用 32 次" in line
    assert "每分钟 32.0 次" in line
    assert "已用 1 分 00 秒" in line
    assert "预计还需 3 分 00 秒" in line


def test_progress_line_before_first_request():
    progress = FetchProgress("单元 daily/m1", total=5, interval=10, clock=StepClock(0.0, 12.0))
    line = progress.line()
    assert "0/5 次请求（0%）" in line
    assert "每分钟 0.0 次" in line
    assert "剩余时间尚无法估计" in line


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 秒"), (59.4, "59 秒"), (65, "1 分 05 秒"), (3600 * 2 + 61, "2 小时 01 分")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_slow_fetch_logs_progress(tmp_path, caplog):
    faults = [{"kind": "delay", "api": "daily", "seconds": DELAY, "times": -1}]
    market = SimMarket(symbols=12, seed=3)
    with start_server(ServerConfig(now=NOW, faults=faults), source=market) as server:
        client = TushareClient(server.url, "token", 1000, timeout=10)
        basics = fetch_stock_basic(client, STOCK_BASIC.row_cap)
        calendar = fetch_trade_cal(client, TRADE_CAL.row_cap, "20241231")
        write_snapshot(STOCK_BASIC, basics, tmp_path / "stock_basic" / "s.parquet", "20240614", 1)
        write_snapshot(TRADE_CAL, calendar, tmp_path / "trade_cal" / "s.parquet", "20240614", 1)

        universe = load_universe(tmp_path)
        calls = tuple(Call({"trade_date": day}, 12, Segment(None, day, day)) for day in DAYS)
        unit = Unit("daily", "m20240607-20240614-0000000000", "market", calls)
        output = tmp_path / "daily" / f"{unit.unit_id}.parquet"
        with caplog.at_level(logging.INFO, logger="tslake.progress"):
            fetch_unit(
                unit,
                DATASETS["daily"],
                client,
                6000,
                output,
                universe,
                0.9,
                progress_interval=INTERVAL,
            )

    lines = [r.getMessage() for r in caplog.records if r.name == "tslake.progress"]
    # Five calls of at least DELAY seconds each take 4 s or more, so 3 lines at least.
    assert len(lines) >= 3, lines
    done = [int(re.search(r"已完成 (\d+)/5 次请求", line).group(1)) for line in lines]
    assert done == sorted(done)
    assert done[-1] >= 3
    assert all("每分钟" in line for line in lines)
    assert any("预计还需" in line for line in lines)
    assert pq.read_metadata(output).num_rows > 0
