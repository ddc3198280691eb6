"""Fetching under faults: the workflow runs against a local server that misbehaves on purpose.

Each test starts the server in this process with injected faults and runs the
real `snakemake` command with `source: tushare` pointed at it, so the same
code path as with real Tushare is exercised.
"""

from __future__ import annotations

import os

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import Lake

from tslake.registry import DATASETS
from tslake.server import ServerConfig, SimMarket, start_server

NOW = "2024-06-14T20:00"
START = "20240401"
END = "20240614"
DAILY = ("daily", "adj_factor", "daily_basic")
TOKEN = "test-token-5f1c"
FAST_RETRIES = {"retries": 2, "retry_wait": 0.05, "timeout": 1, "rate_limit_wait": 1}


@pytest.fixture(scope="module")
def market() -> SimMarket:
    return SimMarket(symbols=24, seed=11)


def make_lake(lake_factory, name: str, server, **overrides) -> Lake:
    settings = {
        "source": "tushare",
        "tushare_url": server.url,
        "start_date": START,
        "now": NOW,
        **FAST_RETRIES,
        **overrides,
    }
    return lake_factory(name, **settings)


def run(lake: Lake, *args: str, check: bool = True, token: str = TOKEN, **config):
    return lake.snakemake(*args, check=check, env={"TUSHARE_TOKEN": token}, **config)


def expected(market: SimMarket, name: str, end: str = END) -> pd.DataFrame:
    frame = market.table(name)
    frame = frame[(frame["trade_date"] >= START) & (frame["trade_date"] <= end)]
    return frame.sort_values(list(DATASETS[name].key)).reset_index(drop=True)


def view(lake: Lake, name: str) -> pd.DataFrame:
    frame = lake.query(f"SELECT * FROM {name}")
    return frame.sort_values(list(DATASETS[name].key)).reset_index(drop=True)


def assert_lake_equals(lake: Lake, market: SimMarket, names=DAILY, end: str = END) -> None:
    for name in names:
        got = view(lake, name)
        want = expected(market, name, end)
        assert len(got) > 0, name
        pd.testing.assert_frame_equal(got, want[got.columns.tolist()], check_dtype=False)


def part_files(lake: Lake, name: str) -> list:
    return sorted((lake.data / name).glob("*.parquet"))


TRANSIENT_FAULTS = [
    {"kind": "delay", "api": "daily_basic", "seconds": 2.5},
    {"kind": "reset", "api": "adj_factor"},
    {"kind": "http_status", "api": "daily", "status": 502},
    {"kind": "http_status", "api": "daily", "status": 404},
    {"kind": "not_json", "api": "daily_basic"},
    {"kind": "server_error", "api": "adj_factor"},
    {"kind": "server_error", "api": "adj_factor", "variant": 2},
]


@pytest.mark.parametrize(
    "fault", TRANSIENT_FAULTS, ids=lambda f: f"{f['kind']}-{f.get('status', '')}"
)
def test_transient_fault_retried(lake_factory, market, fault):
    with start_server(
        ServerConfig(now=NOW, faults=[{**fault, "times": 2}]), source=market
    ) as server:
        lake = make_lake(lake_factory, "transient", server)
        result = run(lake)
        assert "重试" in result.output
        assert_lake_equals(lake, market)
        faulted = [call for call in server.calls if call.fault]
        assert len(faulted) == 2


@pytest.mark.parametrize(
    "fault", TRANSIENT_FAULTS, ids=lambda f: f"{f['kind']}-{f.get('status', '')}"
)
def test_persistent_fault_fails_unit(lake_factory, market, fault):
    with start_server(
        ServerConfig(now=NOW, faults=[{**fault, "times": -1}]), source=market
    ) as server:
        lake = make_lake(lake_factory, "persistent", server)
        result = run(lake, check=False)
        assert result.returncode != 0
        assert "失败单元" in result.output
        assert part_files(lake, fault["api"]) == []
        for other in set(DAILY) - {fault["api"]}:
            assert len(view(lake, other)) == len(expected(market, other))


def test_per_minute_refusal_waited_out(lake_factory, market):
    faults = [{"kind": "rate_minute", "api": "daily_basic", "times": 3, "limit": 500}]
    with start_server(ServerConfig(now=NOW, faults=faults), source=market) as server:
        lake = make_lake(lake_factory, "minute", server)
        result = run(lake)
        assert "每分钟" in result.output
        assert_lake_equals(lake, market)


def test_daily_quota_stops_dataset(lake_factory, market):
    faults = [{"kind": "rate_day", "api": "daily_basic", "times": -1}]
    with start_server(ServerConfig(now=NOW, faults=faults), source=market) as server:
        lake = make_lake(lake_factory, "quota", server)
        result = run(lake, check=False)
        assert result.returncode != 0
        assert "今日的调用次数已用完" in result.output
        assert "00:00" in result.output
        assert part_files(lake, "daily_basic") == []
        assert_lake_equals(lake, market, names=("daily", "adj_factor"))


def test_missing_permission_names_points(lake_factory, market):
    faults = [{"kind": "no_permission", "api": "adj_factor", "times": -1}]
    with start_server(ServerConfig(now=NOW, faults=faults), source=market) as server:
        lake = make_lake(lake_factory, "permission", server)
        result = run(lake, check=False)
        assert result.returncode != 0
        assert "没有接口 adj_factor 的访问权限" in result.output
        assert "2000 积分" in result.output
        assert part_files(lake, "adj_factor") == []
        assert_lake_equals(lake, market, names=("daily", "daily_basic"))


def test_invalid_token_stops_before_parts(lake_factory, market):
    with start_server(ServerConfig(now=NOW, token=TOKEN), source=market) as server:
        lake = make_lake(lake_factory, "token", server)
        result = run(lake, check=False, token="wrong-token")
        assert result.returncode != 0
        assert "TUSHARE_TOKEN" in result.output
        assert list(lake.data.rglob("*.parquet")) == []
        assert {call.api for call in server.calls} == {"stock_basic"}


def test_low_row_caps_split_requests(lake_factory):
    market = SimMarket(symbols=150, seed=3)
    caps = {"daily": 100, "adj_factor": 100, "daily_basic": 100}
    with start_server(ServerConfig(now=NOW, row_caps=caps), source=market) as server:
        lake = make_lake(lake_factory, "caps", server, start_date="20240102", row_caps=caps)
        run(lake)
        for name in DAILY:
            got = view(lake, name)
            want = market.table(name)
            want = want[(want["trade_date"] >= "20240102") & (want["trade_date"] <= END)]
            assert len(got) == len(want), name
            assert not got.duplicated(subset=["ts_code", "trade_date"]).any()
        assert all("offset" not in call.params for call in server.calls)
        server.set_now("2024-06-17T20:00")
        run(lake, now="2024-06-17T20:00")
        got = lake.query("SELECT count(*) AS n FROM daily WHERE trade_date = '20240617'")["n"][0]
        want = market.table("daily")
        assert got == int((want["trade_date"] == "20240617").sum()) > 100


def test_schema_drift_keeps_types(lake_factory, market):
    faults = [
        {"kind": "extra_column", "api": "daily", "name": "new_field", "times": -1},
        {"kind": "drop_column", "api": "daily_basic", "name": "pe", "times": -1},
        {"kind": "numbers_as_strings", "api": "adj_factor", "times": -1},
        {"kind": "nulls", "api": "daily", "times": 2},
        {"kind": "empty", "api": "daily_basic", "times": 1},
    ]
    with start_server(ServerConfig(now=NOW, faults=faults), source=market) as server:
        lake = make_lake(lake_factory, "drift", server)
        result = run(lake)
        assert result.stdout.count("new_field") == 1
        assert "缺少列 pe" in result.stdout
        for name in DAILY:
            schemas = {pq.read_schema(path).remove_metadata() for path in part_files(lake, name)}
            assert schemas == {DATASETS[name].arrow_schema()}, name
        factors = view(lake, "adj_factor")
        pd.testing.assert_frame_equal(factors, expected(market, "adj_factor"), check_dtype=False)
        assert view(lake, "daily_basic")["pe"].isna().all()


def test_reader_keeps_reading_during_run(lake_factory, market):
    import duckdb

    with start_server(ServerConfig(now=NOW), source=market) as server:
        lake = make_lake(lake_factory, "reader", server)
        run(lake)
        reader = duckdb.connect(str(lake.data / "metadata.db"), read_only=True)
        before = reader.execute("SELECT count(*) FROM daily").fetchone()[0]
        server.set_now("2024-06-17T20:00")
        run(lake, now="2024-06-17T20:00")
        assert reader.execute("SELECT count(*) FROM daily").fetchone()[0] == before
        reader.close()
        after = lake.query("SELECT count(*) AS n FROM daily")["n"][0]
        assert after > before


def test_invalid_codes_never_become_paths(lake_factory, market):
    faults = [{"kind": "bad_code", "api": "stock_basic", "code": "../../etc.SH", "times": -1}]
    with start_server(ServerConfig(now=NOW, faults=faults), source=market) as server:
        lake = make_lake(lake_factory, "badcode", server)
        run(lake)
        log_text = "".join(
            path.read_text(encoding="utf-8")
            for path in (lake.data / ".tslake" / "logs").glob("plan-*.log")
        )
        assert "无效代码" in log_text
        assert "../../etc.SH" in log_text
        assert not any(".." in path.name for path in lake.folder.rglob("*"))
        assert "../../etc.SH" not in set(view(lake, "daily")["ts_code"])


def test_token_never_written(lake_factory, market):
    with start_server(ServerConfig(now=NOW, token=TOKEN), source=market) as server:
        lake = make_lake(lake_factory, "secret", server)
        result = run(lake)
        assert TOKEN not in result.output
        for path in lake.folder.rglob("*"):
            if path.is_file():
                assert TOKEN.encode() not in path.read_bytes(), path


def test_rate_limit_shared_across_jobs(lake_factory):
    from datetime import datetime

    market = SimMarket(symbols=40, seed=13)
    limit = 20
    with start_server(ServerConfig(now=NOW), source=market) as server:
        lake = make_lake(lake_factory, "rate", server, rate_limit=limit, calls_per_job=5)
        result = run(lake, "--cores", "4", "--resources", "tushare_api=4")
        assert result.jobs > 8
        for api in DAILY:
            moments = sorted(
                datetime.fromisoformat(call.time).timestamp()
                for call in server.calls
                if call.api == api
            )
            busiest = max(
                sum(1 for other in moments if start <= other < start + 60) for start in moments
            )
            assert busiest <= limit, api
        assert len([call for call in server.calls if call.api == "adj_factor"]) > limit


def test_answer_at_cap_is_split(market):
    from tslake.fetch import fetch_complete
    from tslake.registry import ADJ_FACTOR
    from tslake.registry import DAILY as DAILY_DATASET
    from tslake.tushare_api import TushareClient

    codes = sorted(market.table("stock_basic")["ts_code"])[:10]
    with start_server(
        ServerConfig(now=NOW, row_caps={"daily": 50, "adj_factor": 10}), source=market
    ) as server:
        client = TushareClient(server.url, TOKEN, 1000)
        params = {"ts_code": ",".join(codes), "start_date": START, "end_date": END}
        frames = fetch_complete(client, DAILY_DATASET, params, 50, lambda day: codes)
        got = pd.concat(frames).sort_values(["ts_code", "trade_date"]).reset_index(drop=True)
        want = expected(market, "daily")
        want = want[want["ts_code"].isin(codes)].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want[got.columns.tolist()], check_dtype=False)
        assert max(call.rows for call in server.calls) == 50
        day = {"trade_date": END}
        factors = expected(market, "adj_factor")
        listed = sorted(factors.loc[factors["trade_date"] == END, "ts_code"])
        assert len(listed) > 10
        frames = fetch_complete(client, ADJ_FACTOR, day, 10, lambda _: listed)
        assert sorted(pd.concat(frames)["ts_code"]) == listed


def test_second_run_exits_while_first_runs(lake_factory, market):
    import subprocess
    import time

    faults = [{"kind": "delay", "api": "daily", "seconds": 12, "times": 1}]
    with start_server(ServerConfig(now=NOW, faults=faults), source=market) as server:
        lake = make_lake(lake_factory, "overlap", server, timeout=30)
        first = subprocess.Popen(
            lake.command(),
            env={**os.environ, "TUSHARE_TOKEN": TOKEN},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        # The server logs a call only after responding, so wait for the fetch jobs to start instead.
        deadline = time.monotonic() + 60
        while not (lake.data / "daily").is_dir() and not list((lake.data / "adj_factor").glob("*")):
            assert time.monotonic() < deadline, "the first run never started fetching"
            time.sleep(0.2)
        time.sleep(2)
        second = run(lake, check=False)
        assert second.returncode != 0
        assert "另一个运行正在使用数据目录" in second.output
        first.communicate(timeout=300)
        assert first.returncode == 0
        assert_lake_equals(lake, market)
