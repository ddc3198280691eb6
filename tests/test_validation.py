"""Validation of what the API returns: a partial day is never stored as complete.

Each test serves one upstream data fault on the update day (2024-06-17) from
an in-process local server, runs the real workflow, and checks the report and
the lake. Most tests then heal the fault and check that the next run repairs it.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_fetch_faults import NOW, assert_lake_equals, make_lake, run, view

from tslake.server import ServerConfig, SimMarket, start_server

UPDATE = "2024-06-17T20:00"
DAY = "20240617"


@pytest.fixture(scope="module")
def market() -> SimMarket:
    return SimMarket(symbols=40, seed=17)


def update_with(lake_factory, market, name: str, fault: dict):
    """Return (server, lake, update run) after a clean first run and an update with `fault`."""
    server = start_server(ServerConfig(now=NOW), source=market)
    lake = make_lake(lake_factory, name, server)
    run(lake)
    server.set_now(UPDATE)
    server.add_fault(fault)
    return server, lake, run(lake, now=UPDATE)


def test_half_published_day_fetched_again(lake_factory, market):
    fault = {"kind": "partial_day", "api": "daily", "share": 0.5, "match": {"trade_date": DAY}}
    server, lake, result = update_with(lake_factory, market, "partial", fault)
    with server:
        assert f"daily 交易日 {DAY} 预计约" in result.stdout
        assert "疑似未发布完整" in result.stdout
        assert (
            lake.query(f"SELECT count(*) AS n FROM daily WHERE trade_date = '{DAY}'")["n"][0] == 0
        )
        before = len(server.calls)
        run(lake, now=UPDATE)
        again = [call for call in server.calls[before:] if call.api == "daily"]
        assert [call.params.get("trade_date") for call in again] == [DAY]
        assert_lake_equals(lake, market, end=DAY)


def test_missing_adj_factor_symbols_fetched_again(lake_factory, market):
    codes = sorted(set(market.table("daily").query(f"trade_date == '{DAY}'")["ts_code"]))[:3]
    fault = {
        "kind": "drop_symbols",
        "api": "adj_factor",
        "codes": codes,
        "match": {"trade_date": DAY},
    }
    server, lake, result = update_with(lake_factory, market, "dropped", fault)
    with server:
        assert "adj_factor 缺少 3 个在 daily 中存在的" in result.stdout
        assert codes[0] in result.stdout
        before = len(server.calls)
        run(lake, now=UPDATE)
        again = [call for call in server.calls[before:] if call.api == "adj_factor"]
        assert again, "the missing adj_factor rows were not asked for again"
        assert all(
            call.params.get("trade_date", DAY) == DAY or call.params.get("end_date") == DAY
            for call in again
        )
        assert_lake_equals(lake, market, end=DAY)


def test_invariant_breaking_rows_reported(lake_factory, market):
    fault = {"kind": "bad_values", "api": "daily", "rows": 3, "match": {"trade_date": DAY}}
    server, lake, result = update_with(lake_factory, market, "values", fault)
    with server:
        assert "daily 有 3 行最高价低于最低价" in result.stdout
        assert "收盘价不在最低价与最高价之间" in result.stdout
        assert "成交量为负" in result.stdout
        bad = lake.query(
            f"SELECT count(*) AS n FROM daily WHERE trade_date = '{DAY}' AND high < low"
        )
        assert bad["n"][0] == 3
        check = lake.snakemake("validate", "--cores", "1", env={"TUSHARE_TOKEN": "x"}, now=UPDATE)
        assert "daily：" in check.stdout
        assert "最高价低于最低价：3 行" in check.stdout


def test_nonpositive_adj_factor_reported(lake_factory, market):
    fault = {"kind": "bad_values", "api": "adj_factor", "rows": 2, "match": {"trade_date": DAY}}
    server, lake, result = update_with(lake_factory, market, "factor", fault)
    with server:
        assert "adj_factor 有 2 行复权因子不为正" in result.stdout


def test_closed_day_row_reported_not_trading_day(lake_factory, market):
    fault = {
        "kind": "closed_day_row",
        "api": "daily",
        "date": "20240615",
        "match": {"trade_date": DAY},
    }
    server, lake, result = update_with(lake_factory, market, "closed", fault)
    with server:
        assert "daily 有 1 行日期不是交易日" in result.stdout
        calendar = lake.query("SELECT is_open FROM trade_cal WHERE cal_date = '20240615'")
        assert calendar["is_open"].tolist() == [0]
        assert (
            "20240615"
            not in lake.query("SELECT DISTINCT trade_date FROM adj_factor")["trade_date"].tolist()
        )


def test_duplicate_key_reported_once_stored(lake_factory, market):
    fault = {"kind": "duplicate_row", "api": "daily_basic", "match": {"trade_date": DAY}}
    server, lake, result = update_with(lake_factory, market, "duplicate", fault)
    with server:
        assert "daily_basic 有 1 行同一响应内主键重复" in result.stdout
        frame = view(lake, "daily_basic")
        assert not frame.duplicated(subset=["ts_code", "trade_date"]).any()


def test_validate_clean_lake(lake_factory, market):
    with start_server(ServerConfig(now=NOW), source=market) as server:
        lake = make_lake(lake_factory, "clean", server)
        run(lake)
        check = lake.snakemake("validate", "--cores", "1", env={"TUSHARE_TOKEN": "x"})
        for name in ("daily", "adj_factor", "daily_basic"):
            assert f"{name}：" in check.stdout
        assert check.stdout.count("未发现问题") == 3
        assert isinstance(view(lake, "daily"), pd.DataFrame)


def test_suspend_d_makes_expectation_exact(lake_factory, market):
    codes = sorted(set(market.table("daily").query(f"trade_date == '{DAY}'")["ts_code"]))[:2]
    fault = {"kind": "drop_symbols", "api": "daily", "codes": codes, "match": {"trade_date": DAY}}
    datasets = ["daily", "adj_factor", "daily_basic", "suspend_d"]
    with start_server(ServerConfig(now=NOW), source=market) as server:
        lake = make_lake(
            lake_factory,
            "suspend",
            server,
            group="exact",
            groups={"exact": {"datasets": datasets, "symbols": "all"}},
        )
        run(lake)
        suspend_calls = [call for call in server.calls if call.api == "suspend_d"]
        assert suspend_calls
        assert all("ts_code" not in call.params for call in suspend_calls)
        server.set_now(UPDATE)
        server.add_fault(fault)
        result = run(lake, now=UPDATE)
        # Two missing stocks out of about 40 are within the 20% tolerance, but not within
        # the exact expectation that suspend_d allows.
        assert f"daily 交易日 {DAY} 预计约" in result.stdout
        before = len(server.calls)
        run(lake, now=UPDATE)
        again = [call for call in server.calls[before:] if call.api == "daily"]
        assert [call.params.get("trade_date") for call in again] == [DAY]
        assert_lake_equals(lake, market, end=DAY)
        suspended = lake.query(f"SELECT count(*) AS n FROM suspend_d WHERE trade_date <= '{DAY}'")[
            "n"
        ][0]
        want = market.table("suspend_d")
        assert suspended == int(
            ((want["trade_date"] >= "20240401") & (want["trade_date"] <= DAY)).sum()
        )
