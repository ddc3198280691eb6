"""Tests of the local Tushare server, driven through the real ``tushare`` client."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import exchange_calendars as xcals
import pandas as pd
import pytest
import requests
import tushare as ts
from conftest import tushare_client

from tslake.server import ReplaySource, RunningServer, ServerConfig, SimMarket, start_server
from tslake.server.app import STOCK_BASIC_DEFAULT_FIELDS

REPO = Path(__file__).resolve().parents[1]
REALDATA = REPO.parent / "shared" / "realdata"

NOW = "2026-12-04T20:00"
TODAY = "20261204"
RATE_LIMIT_TEXT = "抱歉，您每分钟最多访问该接口{}次，权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。"
TOKEN_TEXT = "您的token不对，请确认。"


def post(server: RunningServer, body: dict, path: str = "") -> dict:
    """Post a raw request body and return the decoded response."""
    response = requests.post(server.url + path, json=body, timeout=10)
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def market() -> SimMarket:
    return SimMarket(symbols=60, seed=11)


@pytest.fixture(scope="module")
def server(market: SimMarket) -> Iterator[RunningServer]:
    with start_server(ServerConfig(now=NOW), source=market) as running:
        yield running


def listing_with(market: SimMarket, predicate) -> str:
    for listing in market.universe.listings:
        if predicate(listing):
            return listing.ts_code
    raise AssertionError("the simulated market has no stock with the property the test needs")


def old_listed_code(market: SimMarket) -> str:
    """Return a listed stock that has traded since before 2010."""
    before_2010 = market.calendar.session_index("20100101")
    return listing_with(
        market, lambda listing: listing.status == "L" and listing.list_index < before_2010
    )


# Order, envelope and fields


def test_daily_history_newest_first(server: RunningServer, market: SimMarket) -> None:
    code = old_listed_code(market)
    frame = tushare_client(server).daily(ts_code=code, start_date="20260101", end_date="20261231")
    assert len(frame) > 200
    assert frame["trade_date"].is_monotonic_decreasing
    assert frame["trade_date"].is_unique
    assert frame["trade_date"].iloc[0] == TODAY


def test_cross_section_sorted_by_code(server: RunningServer) -> None:
    frame = tushare_client(server).daily(trade_date="20261203")
    assert len(frame) > 40
    assert (frame["trade_date"] == "20261203").all()
    assert frame["ts_code"].is_monotonic_increasing


def test_range_orders_date_then_code(server: RunningServer) -> None:
    frame = tushare_client(server).adj_factor(start_date="20261130", end_date="20261204")
    expected = frame.sort_values(["trade_date", "ts_code"], ascending=[False, True])
    assert frame["trade_date"].nunique() == 5
    assert frame.index.equals(expected.index)


def test_success_envelope(server: RunningServer, market: SimMarket) -> None:
    code = old_listed_code(market)
    body = {
        "api_name": "daily_basic",
        "token": "t",
        "params": {"ts_code": code, "trade_date": "20261203", "ts_type_name": "x"},
        "fields": "",
    }
    response = post(server, body, "/daily_basic")
    assert response["code"] == 0
    assert response["msg"] is None
    assert len(response["request_id"]) == 32
    assert response["data"]["has_more"] is False
    assert response["data"]["fields"][:3] == ["ts_code", "trade_date", "close"]
    assert len(response["data"]["items"]) == 1


def test_nulls_are_json_null(server: RunningServer) -> None:
    body = {
        "api_name": "daily_basic",
        "token": "t",
        "params": {"trade_date": "20261203"},
        "fields": "ts_code,pe,dv_ratio",
    }
    items = post(server, body)["data"]["items"]
    pe_values = [row[1] for row in items]
    assert None in pe_values, "expected a loss-making stock with a null pe"
    assert all(value is None or isinstance(value, float) for value in pe_values)


def test_any_path_accepted(server: RunningServer) -> None:
    body = {"api_name": "trade_cal", "token": "t", "params": {}, "fields": ""}
    root = server.url.removesuffix("/dataapi")
    for url in (root, root + "/", server.url, server.url + "/trade_cal", root + "/x/y"):
        response = requests.post(url, json=body, timeout=10)
        assert response.json()["code"] == 0, url


def test_requested_fields_order(server: RunningServer, market: SimMarket) -> None:
    code = old_listed_code(market)
    pro = tushare_client(server)
    frame = pro.daily(ts_code=code, trade_date="20261203", fields="close,trade_date,bogus")
    assert list(frame.columns) == ["close", "trade_date"]
    listed = pro.daily(ts_code=code, trade_date="20261203", fields=["vol", "ts_code"])
    assert list(listed.columns) == ["vol", "ts_code"]


def test_daily_values_consistent(server: RunningServer) -> None:
    frame = tushare_client(server).daily(trade_date="20261203")
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    change = (frame["close"] - frame["pre_close"]).round(2)
    assert (change - frame["change"]).abs().max() < 1e-9
    pct = (frame["change"] / frame["pre_close"] * 100).round(4)
    assert (pct - frame["pct_chg"]).abs().max() < 1e-9


def test_daily_basic_close_matches_daily(server: RunningServer) -> None:
    pro = tushare_client(server)
    daily = pro.daily(trade_date="20261203", fields="ts_code,close")
    basic = pro.daily_basic(trade_date="20261203", fields="ts_code,close")
    merged = daily.merge(basic, on="ts_code", suffixes=("_daily", "_basic"))
    assert len(merged) == len(daily)
    assert (merged["close_daily"] == merged["close_basic"]).all()


# Parameters and errors


def test_comma_separated_codes(server: RunningServer, market: SimMarket) -> None:
    pro = tushare_client(server)
    first = old_listed_code(market)
    second = listing_with(market, lambda listing: listing.status == "L" and listing.ts_code > first)
    both = pro.daily(ts_code=f"{first},{second}", start_date="20261101", end_date="20261130")
    assert set(both["ts_code"]) == {first, second}
    single = [
        pro.daily(ts_code=code, start_date="20261101", end_date="20261130")
        for code in (first, second)
    ]
    assert len(both) == sum(len(frame) for frame in single)


def test_daily_requires_a_selector(server: RunningServer) -> None:
    pro = tushare_client(server)
    with pytest.raises(Exception, match=r"^ts_code required$"):
        pro.daily()
    with pytest.raises(Exception, match=r"^ts_code required$"):
        pro.adj_factor(end_date="20261204")
    assert len(pro.daily(start_date="20261204")) > 0


def test_unknown_api_rejected(server: RunningServer) -> None:
    with pytest.raises(Exception, match=r"^请指定正确的接口名$"):
        tushare_client(server).no_such_api()


def test_invalid_date_rejected(server: RunningServer) -> None:
    with pytest.raises(Exception, match="trade_date"):
        tushare_client(server).daily(trade_date="2026-12-04")


def test_malformed_body_rejected(server: RunningServer) -> None:
    response = requests.post(server.url, data=b"not json", timeout=10).json()
    assert response["code"] == -1000
    assert response["msg"] == "系统内部错误"


def test_unknown_code_has_no_rows(server: RunningServer) -> None:
    frame = tushare_client(server).daily(ts_code="999999.SH", start_date="20200101")
    assert frame.empty
    assert list(frame.columns)[:2] == ["ts_code", "trade_date"]


class BrokenMarket(SimMarket):
    """A market whose daily datasets fail, to exercise the server-fault path."""

    def daily_rows(self, *args: object, **kwargs: object) -> pd.DataFrame:
        raise RuntimeError("simulated disk failure")


def test_source_fault_returns_server_error(caplog: pytest.LogCaptureFixture) -> None:
    with start_server(ServerConfig(now=NOW), source=BrokenMarket(symbols=5, seed=1)) as running:
        with pytest.raises(Exception, match="服务器错误"):
            tushare_client(running, "fault-token").daily(trade_date=TODAY)
        assert running.calls[-1].code == 50101
    assert "simulated disk failure" in caplog.text
    assert "fault-token" not in caplog.text


def test_get_not_allowed(server: RunningServer) -> None:
    assert requests.get(server.url, timeout=10).status_code == 405


# Tokens, row caps and rate limits


def test_invalid_token_text(make_server) -> None:
    running = make_server(token="secret")
    with pytest.raises(Exception) as raised:
        tushare_client(running, "wrong").trade_cal()
    assert str(raised.value) == TOKEN_TEXT
    assert len(tushare_client(running, "secret").trade_cal(start_date="20261201")) > 0


def test_empty_token_rejected(server: RunningServer) -> None:
    body = {"api_name": "trade_cal", "token": "", "params": {}, "fields": ""}
    response = post(server, body)
    assert response["code"] == 40101
    assert response["msg"] == TOKEN_TEXT


def test_row_cap_drops_oldest(make_server, market: SimMarket) -> None:
    running = make_server(row_caps={"daily": 50})
    code = old_listed_code(market)
    frame = tushare_client(running).daily(ts_code=code, start_date="20200101", end_date=TODAY)
    truth = running.table("daily")
    newest = truth[(truth["ts_code"] == code) & (truth["trade_date"] >= "20200101")].head(50)
    assert len(frame) == 50
    assert frame["trade_date"].tolist() == newest["trade_date"].tolist()
    assert frame["trade_date"].iloc[0] == TODAY


def test_row_cap_on_cross_section(make_server) -> None:
    running = make_server(row_caps={"daily": 10, "adj_factor": 70})
    pro = tushare_client(running)
    day = pro.daily(trade_date="20261203")
    truth = running.table("daily")
    all_codes = truth.loc[truth["trade_date"] == "20261203", "ts_code"].tolist()
    assert day["ts_code"].tolist() == all_codes[:10]

    # 70 rows of a range: the newest day whole, the rest of the cap from the day before.
    factors = pro.adj_factor(start_date="20261201", end_date=TODAY)
    truth = running.table("adj_factor")
    in_range = truth[truth["trade_date"] >= "20261201"]
    expected = in_range.head(70)
    assert len(factors) == 70
    assert factors["trade_date"].iloc[0] == TODAY
    assert factors["trade_date"].min() == "20261203"
    assert factors["ts_code"].tolist() == expected["ts_code"].tolist()
    assert factors["trade_date"].tolist() == expected["trade_date"].tolist()


def test_trade_cal_cap_keeps_newest(server: RunningServer) -> None:
    calendar = tushare_client(server).trade_cal()
    assert len(calendar) == 10000
    assert calendar["cal_date"].is_monotonic_decreasing
    assert calendar["cal_date"].iloc[0] == server.source.calendar.last_day


def test_rate_limit_exact_text(make_server) -> None:
    running = make_server(rate_limits={"daily": 3})
    pro = tushare_client(running)
    for _ in range(3):
        pro.daily(trade_date="20261203", fields="ts_code")
    with pytest.raises(Exception) as raised:
        pro.daily(trade_date="20261203", fields="ts_code")
    assert str(raised.value) == RATE_LIMIT_TEXT.format(3)
    assert len(pro.adj_factor(trade_date="20261203")) > 0


def test_global_rate_limit(make_server) -> None:
    running = make_server(rate_limit=2)
    pro = tushare_client(running)
    pro.trade_cal(start_date=TODAY)
    pro.trade_cal(start_date=TODAY)
    with pytest.raises(Exception) as raised:
        pro.trade_cal(start_date=TODAY)
    assert str(raised.value) == RATE_LIMIT_TEXT.format(2)
    assert [call.code for call in running.calls] == [0, 0, 40203]


# Clock and publication times


def test_unpublished_day_hidden(make_server, market: SimMarket) -> None:
    running = make_server(now="2026-12-04T10:00")
    pro = tushare_client(running)
    code = old_listed_code(market)
    assert pro.daily(trade_date=TODAY).empty
    history = pro.daily(ts_code=code, start_date="20261201")
    assert history["trade_date"].iloc[0] == "20261203"

    running.set_now("2026-12-04T17:00")
    assert len(pro.daily(trade_date=TODAY)) > 40
    assert pro.daily(ts_code=code, start_date="20261201")["trade_date"].iloc[0] == TODAY
    # daily_basic is published at 19:00.
    assert pro.daily_basic(trade_date=TODAY).empty
    running.set_now("2026-12-04T19:00")
    assert len(pro.daily_basic(trade_date=TODAY)) > 40


def test_publish_time_override(make_server) -> None:
    running = make_server(now="2026-12-04T10:00", publish_times={"adj_factor": "09:30"})
    pro = tushare_client(running)
    assert len(pro.adj_factor(trade_date=TODAY)) > 40
    assert pro.daily(trade_date=TODAY).empty


def test_clock_in_shanghai_time(make_server) -> None:
    # 09:30 UTC is 17:30 in Shanghai.
    running = make_server(now="2026-12-04T09:30:00+00:00")
    assert len(tushare_client(running).daily(trade_date=TODAY)) > 40


# stock_basic and trade_cal


def test_stock_basic_default_fields(server: RunningServer) -> None:
    frame = tushare_client(server).stock_basic()
    assert list(frame.columns) == list(STOCK_BASIC_DEFAULT_FIELDS)
    assert frame["ts_code"].is_monotonic_increasing
    assert frame["ts_code"].str.fullmatch(r"\d{6}\.(SH|SZ|BJ)").all()


def test_stock_basic_list_statuses(server: RunningServer, market: SimMarket) -> None:
    pro = tushare_client(server)
    fields = "ts_code,list_status,delist_date,exchange,market,list_date"
    frames = {status: pro.stock_basic(list_status=status, fields=fields) for status in "LDP"}
    truth = server.table("stock_basic")
    for status, frame in frames.items():
        assert len(frame) > 0, status
        assert (frame["list_status"] == status).all()
        assert (
            frame["ts_code"].tolist()
            == truth.loc[truth["list_status"] == status, "ts_code"].tolist()
        )
    assert frames["D"]["delist_date"].notna().all()
    assert frames["P"]["delist_date"].isna().all()
    assert frames["L"]["delist_date"].isna().all()
    assert set(frames["L"]["exchange"]) == {"SSE", "SZSE", "BSE"}
    final = market.stock_basic()
    listed_by_today = final[final["list_date"] <= TODAY]
    assert len(listed_by_today) == sum(len(frame) for frame in frames.values())


def test_stock_basic_follows_clock(make_server, market: SimMarket) -> None:
    final = market.stock_basic()
    delisted = final[final["list_status"] == "D"].iloc[0]
    running = make_server(now="2026-12-04T20:00")
    pro = tushare_client(running)
    fields = "ts_code,list_status,delist_date,list_date"

    future = final[final["list_date"] > TODAY]
    assert not future.empty
    every_status = pd.concat(
        [pro.stock_basic(list_status=status, fields=fields) for status in "LDP"]
    )
    assert not set(future["ts_code"]) & set(every_status["ts_code"])

    before = pd.Timestamp(delisted["delist_date"]) - pd.Timedelta(days=1)
    running.set_now(before.strftime("%Y-%m-%dT20:00"))
    row = pro.stock_basic(ts_code=delisted["ts_code"], fields=fields)
    assert row["list_status"].tolist() == ["L"]
    assert row["delist_date"].isna().all()


def test_trade_cal_open_and_closed_days(server: RunningServer) -> None:
    pro = tushare_client(server)
    frame = pro.trade_cal(start_date="20261001", end_date="20261010")
    assert frame["cal_date"].tolist() == [f"202610{day:02d}" for day in range(10, 0, -1)]
    is_open = dict(zip(frame["cal_date"], frame["is_open"], strict=True))
    assert [is_open[f"202610{day:02d}"] for day in range(1, 11)] == [0] * 7 + [1, 1, 0]
    pretrade = dict(zip(frame["cal_date"], frame["pretrade_date"], strict=True))
    assert pretrade["20261008"] == "20260930"
    assert pretrade["20261010"] == "20261009"
    assert (frame["exchange"] == "SSE").all()

    open_days = pro.trade_cal(start_date="20261001", end_date="20261010", is_open="1")
    assert open_days["cal_date"].tolist() == ["20261009", "20261008"]
    shenzhen = pro.trade_cal(exchange="SZSE", start_date="20261001", end_date="20261010")
    assert (shenzhen["exchange"] == "SZSE").all()
    assert shenzhen["is_open"].tolist() == frame["is_open"].tolist()


def test_trade_cal_includes_future_days(server: RunningServer) -> None:
    frame = tushare_client(server).trade_cal(start_date="20261201", end_date="20261231")
    assert frame["cal_date"].iloc[0] == "20261231"
    assert len(frame) == 31


# Simulated market


def test_same_seed_same_tables() -> None:
    first = SimMarket(symbols=25, seed=5)
    second = SimMarket(symbols=25, seed=5)
    codes = first.stock_basic()["ts_code"].tolist()
    # Generate the stocks in opposite orders before comparing whole tables.
    for code in reversed(codes):
        second.series(code)
    for name in ("stock_basic", "trade_cal", "daily", "adj_factor", "daily_basic"):
        pd.testing.assert_frame_equal(first.table(name), second.table(name), obj=name)
    other = SimMarket(symbols=25, seed=6)
    assert not other.table("daily").equals(first.table("daily"))


def test_stock_same_in_larger_market() -> None:
    small = SimMarket(symbols=10, seed=3)
    large = SimMarket(symbols=30, seed=3)
    code = small.stock_basic()["ts_code"].iloc[0]
    pd.testing.assert_frame_equal(
        small.daily_rows("daily", [code], "19900101", "20271231", None),
        large.daily_rows("daily", [code], "19900101", "20271231", None),
    )


def test_suspended_days_have_no_rows(server: RunningServer, market: SimMarket) -> None:
    pro = tushare_client(server)
    calendar = market.calendar
    code = listing_with(
        market,
        lambda listing: any(
            stop - start >= 3 and stop < calendar.session_index(TODAY)
            for start, stop in listing.suspensions
        ),
    )
    start, stop = next(
        span for span in market.universe.by_code[code].suspensions if span[1] - span[0] >= 3
    )
    first_day = calendar.session_strings[start]
    last_day = calendar.session_strings[stop - 1]
    for api in ("daily", "adj_factor", "daily_basic"):
        inside = getattr(pro, api)(ts_code=code, start_date=first_day, end_date=last_day)
        assert inside.empty, api
    around = pro.daily(
        ts_code=code,
        start_date=calendar.session_strings[start - 1],
        end_date=calendar.session_strings[stop],
    )
    assert around["trade_date"].tolist() == [
        calendar.session_strings[stop],
        calendar.session_strings[start - 1],
    ]


def test_no_rows_after_delisting(server: RunningServer, market: SimMarket) -> None:
    final = market.stock_basic()
    delisted = final[(final["list_status"] == "D") & (final["delist_date"] < TODAY)].iloc[0]
    frame = tushare_client(server).daily(ts_code=delisted["ts_code"], start_date="19900101")
    assert len(frame) > 0
    assert frame["trade_date"].max() < delisted["delist_date"]
    assert frame["trade_date"].min() == delisted["list_date"]


def test_codes_look_real(market: SimMarket) -> None:
    codes = market.stock_basic()["ts_code"]
    prefixes = {code[:3] for code in codes}
    assert {"600", "601", "688", "000", "002", "300"} <= prefixes
    assert codes.str.endswith(".BJ").any()
    assert codes.is_unique


# Call log


def test_call_log_file(make_server, tmp_path: Path) -> None:
    log_path = tmp_path / "calls.jsonl"
    running = make_server(call_log=log_path, rate_limits={"trade_cal": 1})
    pro = tushare_client(running, "very-secret-token")
    pro.trade_cal(start_date="20261201", end_date="20261204")
    with pytest.raises(Exception, match="每分钟"):
        pro.trade_cal(start_date="20261201", end_date="20261204")
    pro.daily(ts_code="000001.SZ,600000.SH", trade_date="20261203", fields=["ts_code"])

    text = log_path.read_text(encoding="utf-8")
    assert "very-secret-token" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["code"] for line in lines] == [0, 40203, 0]
    assert set(lines[0]) == {"time", "api", "params", "fields", "rows", "code"}
    assert lines[0]["api"] == "trade_cal"
    assert lines[0]["params"] == {"start_date": "20261201", "end_date": "20261204"}
    assert lines[0]["rows"] == 4
    assert lines[1]["rows"] == 0
    assert lines[2]["fields"] == ["ts_code"]
    assert [call.to_dict() for call in running.calls] == lines


# Replay of recorded real data


@pytest.fixture(scope="module")
def replay_server() -> Iterator[RunningServer]:
    assert REALDATA.is_dir(), f"recorded data not found at {REALDATA}"
    with start_server(ServerConfig(replay=REALDATA, now=NOW)) as running:
        yield running


def test_replay_daily_equals_csv(replay_server: RunningServer) -> None:
    frame = tushare_client(replay_server).daily(
        ts_code="600519.SH", start_date="20120101", end_date="20220701"
    )
    recorded = pd.read_csv(REALDATA / "daily" / "600519.SH.SuKiWSN.csv", dtype={"trade_date": str})
    assert len(frame) == 2546
    pd.testing.assert_frame_equal(frame, recorded, check_dtype=False, check_exact=True)


def test_replay_adj_factor_equals_json(replay_server: RunningServer) -> None:
    frame = tushare_client(replay_server).adj_factor(ts_code="000001.SZ", start_date="20180101")
    path = REALDATA / "adj_factor" / "adj_factor.000001.SZ.tushare-kmp.json"
    recorded = json.loads(path.read_text(encoding="utf-8"))["data"]
    assert list(frame.columns) == recorded["fields"]
    assert frame.to_numpy().tolist() == recorded["items"]


def test_replay_daily_basic_prefix_stripped(replay_server: RunningServer) -> None:
    frame = tushare_client(replay_server).daily_basic(ts_code="600519.SH", trade_date="20251023")
    assert frame["close"].tolist() == [1467.98]
    assert frame["total_share"].tolist() == [125227.0215]


def test_replay_stock_basic(replay_server: RunningServer) -> None:
    pro = tushare_client(replay_server)
    fields = "ts_code,name,exchange,list_status,list_date,delist_date,fullname"
    frame = pro.stock_basic(ts_code="000001.SZ,600519.SH", fields=fields)
    rows = frame.set_index("ts_code")
    assert rows.loc["000001.SZ", "name"] == "平安银行"
    assert rows.loc["000001.SZ", "fullname"] == "平安银行股份有限公司"
    assert rows.loc["600519.SH", "exchange"] == "SSE"
    assert rows.loc["600519.SH", "list_status"] == "L"
    assert rows["delist_date"].isna().all()
    assert len(pro.stock_basic()) == len(replay_server.source.table("stock_basic"))


@pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")
def test_replay_calendar_derived_for_2012(replay_server: RunningServer) -> None:
    pro = tushare_client(replay_server)
    calendar = pro.trade_cal(start_date="20120101", end_date="20121231")
    assert len(calendar) == 366
    xshg = xcals.get_calendar("XSHG", start="2012-01-01", end="2012-12-31")
    expected = {day.strftime("%Y%m%d") for day in xshg.sessions}
    assert set(calendar.loc[calendar["is_open"] == 1, "cal_date"]) == expected
    traded = pro.daily(ts_code="600519.SH", start_date="20120101", end_date="20121231")
    assert set(traded["trade_date"]) <= expected
    assert calendar["cal_date"].iloc[-1] == "20120101"


def test_replay_recordings_agree_with_calendar(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="tslake.server.replay"):
        source = ReplaySource.load(REALDATA)
    warnings = [record for record in caplog.records if record.name.startswith("tslake")]
    assert warnings == []
    assert len(source.table("daily")) == 2515 + 2548 + 2546 + 2456 + 2520
    assert len(source.table("adj_factor")) == 68
    assert source.calendar.first_day == "19901219"
    assert source.calendar.last_day >= "20261231"


def test_replay_quirks(tmp_path: Path) -> None:
    (tmp_path / "daily").mkdir()
    (tmp_path / "stock_basic").mkdir()
    (tmp_path / "other").mkdir()
    daily = (
        "x_ts_code,x_trade_date,x_close,x_vol\r\n"
        "000002.SZ,20240103,10.5,100.0\r\n"
        "000002.SZ,20240102,10.0,90.0\r\n"
    )
    (tmp_path / "daily" / "a.csv").write_bytes(b"\xef\xbb\xbf" + daily.encode())
    response = {
        "code": 0,
        "message": "",
        "chart": None,
        "data": {
            "fields": ["ts_code", "trade_date", "close", "vol"],
            "items": [["000002.SZ", 20240103, 10.5, 100.0], ["000003.SZ", "20240103", 5.0, 1.0]],
        },
    }
    (tmp_path / "daily" / "b.json").write_text(json.dumps(response), encoding="utf-8")
    (tmp_path / "stock_basic" / "short.csv").write_text(
        "ts_code,symbol,name\n830001.BJ,830001,甲\n", encoding="utf-8"
    )
    (tmp_path / "other" / "ignored.csv").write_text("garbage\n", encoding="utf-8")

    source = ReplaySource.load(tmp_path)
    daily_table = source.table("daily")
    assert daily_table[["ts_code", "trade_date"]].values.tolist() == [
        ["000002.SZ", "20240103"],
        ["000003.SZ", "20240103"],
        ["000002.SZ", "20240102"],
    ]
    assert daily_table["open"].isna().all()
    stock = source.table("stock_basic").iloc[0]
    assert stock["exchange"] == "BSE"
    assert stock["list_status"] == "L"
    assert pd.isna(stock["delist_date"])


# Command line


def server_environment() -> dict[str, str]:
    """Return the environment for a server subprocess, with the repository's src importable."""
    environment = dict(os.environ)
    paths = [str(REPO / "src"), environment.get("PYTHONPATH", "")]
    environment["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
    return environment


def wait_for_port(process: subprocess.Popen, port_file: Path) -> int:
    deadline = time.monotonic() + 60
    while not port_file.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the server wrote no port file within 60 s"
        time.sleep(0.05)
    return int(port_file.read_text(encoding="utf-8"))


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_command_line_serves_and_stops(tmp_path: Path, stop_signal: signal.Signals) -> None:
    port_file = tmp_path / "port"
    call_log = tmp_path / "calls.jsonl"
    command = [
        sys.executable, "-m", "tslake.server", "--port", "0", "--port-file", str(port_file),
        "--symbols", "20", "--seed", "4", "--now", NOW, "--token", "cli-token",
        "--row-cap", "daily=7", "--rate-limit", "100", "--rate-limit", "trade_cal=50",
        "--publish-time", "daily=18:00", "--call-log", str(call_log),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=server_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        port = wait_for_port(process, port_file)
        url = f"http://127.0.0.1:{port}/dataapi"
        pro = ts.pro_api("cli-token")
        pro._DataApi__http_url = url
        assert len(pro.daily(start_date="20261101")) == 7

        wrong = ts.pro_api("other-token")
        wrong._DataApi__http_url = url
        with pytest.raises(Exception, match=re.escape(TOKEN_TEXT)):
            wrong.trade_cal()
    finally:
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=30)

    assert process.returncode == 0, stderr
    assert f"本地 Tushare 服务已启动：{url}" in stderr
    text = call_log.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert [(line["api"], line["rows"], line["code"]) for line in lines] == [
        ("daily", 7, 0),
        ("trade_cal", 0, 40101),
    ]
    assert "cli-token" not in text


def test_command_line_rejects_public_host() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tslake.server", "--host", "0.0.0.0"],
        env=server_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "只能绑定本机回环地址" in result.stderr


def test_start_server_rejects_public_host() -> None:
    with pytest.raises(ValueError, match="回环地址"):
        start_server(ServerConfig(host="192.0.2.1"))
