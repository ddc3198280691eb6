"""Tests of fault injection in the local Tushare server, through the real ``tushare`` client."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
import requests
import tushare as ts
from conftest import tushare_client

from tslake.registry import DATASETS
from tslake.server import RunningServer, ServerConfig, SimMarket, start_server
from tslake.server.fault_tables import keep_share_per_day
from tslake.server.faults import FaultError

REPO = Path(__file__).resolve().parents[1]

NOW = "2026-12-04T20:00"
TODAY = "20261204"
DAY = "20261203"
LIMIT_TAIL = "权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。"
TOKEN_TEXT = "您的token不对，请确认。"
SERVER_FAULT_TEXT = "服务器错误，请稍后再试！期待您能把错误反馈给我们，谢谢！"


def post(server: RunningServer, api: str, params: dict) -> requests.Response:
    """Post a raw request and return the HTTP response, whatever its status."""
    body = {"api_name": api, "token": "t", "params": params, "fields": ""}
    return requests.post(server.url, json=body, timeout=10)


@pytest.fixture(scope="module")
def market() -> SimMarket:
    return SimMarket(symbols=40, seed=5)


@pytest.fixture(scope="module")
def shared_server(market: SimMarket) -> Iterator[RunningServer]:
    with start_server(ServerConfig(now=NOW), source=market) as running:
        yield running


@pytest.fixture
def server(shared_server: RunningServer) -> Iterator[RunningServer]:
    """The shared server, with its faults and call log cleared after each test."""
    yield shared_server
    shared_server.clear_faults()
    shared_server.clear_calls()


def listed_codes(server: RunningServer, day: str = DAY) -> list[str]:
    """Return the codes that have a daily row on ``day``, in ts_code order."""
    truth = server.table("daily")
    return truth.loc[truth["trade_date"] == day, "ts_code"].tolist()


# Transport and protocol faults


def test_delay_times_out_then_heals(make_server) -> None:
    # Its own server, because the delayed call is logged after the client gave up.
    running = make_server(faults=[{"kind": "delay", "api": "daily", "seconds": 1.0}])
    pro = tushare_client(running, timeout=0.3)
    with pytest.raises(requests.exceptions.ReadTimeout):
        pro.daily(trade_date=DAY)
    assert len(pro.daily(trade_date=DAY)) > 0


def test_delay_slows_response(server: RunningServer) -> None:
    server.add_fault({"kind": "delay", "seconds": 0.3})
    started = time.monotonic()
    frame = tushare_client(server, timeout=5).daily(trade_date=DAY)
    elapsed = time.monotonic() - started
    assert elapsed >= 0.3
    assert len(frame) > 0
    assert server.calls[-1].fault == "delay"
    assert server.calls[-1].code == 0


def test_reset_closes_connection(server: RunningServer) -> None:
    server.add_fault({"kind": "reset"})
    with pytest.raises(requests.exceptions.ConnectionError):
        tushare_client(server).daily(trade_date=DAY)
    record = server.calls[-1]
    assert record.fault == "reset"
    assert record.code is None
    assert len(tushare_client(server).daily(trade_date=DAY)) > 0


@pytest.mark.parametrize("status", [500, 502, 503, 404, 429])
def test_http_status_gives_empty_frame(server: RunningServer, status: int) -> None:
    server.add_fault({"kind": "http_status", "status": status, "times": 2})
    frame = tushare_client(server).daily(trade_date=DAY)
    assert frame.empty
    assert list(frame.columns) == []
    response = post(server, "daily", {"trade_date": DAY})
    assert response.status_code == status
    assert str(status) in response.text
    assert server.calls[-1].code is None


def test_http_status_custom_body(server: RunningServer) -> None:
    server.add_fault({"kind": "http_status", "status": 502, "body": "upstream down"})
    response = post(server, "trade_cal", {})
    assert response.status_code == 502
    assert response.text == "upstream down"


def test_not_json_body(server: RunningServer) -> None:
    server.add_fault({"kind": "not_json", "times": 2})
    with pytest.raises(json.JSONDecodeError):
        tushare_client(server).daily(trade_date=DAY)
    response = post(server, "daily", {"trade_date": DAY})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.startswith("<html>")


@pytest.mark.parametrize(
    ("rule", "code", "text"),
    [
        ({"kind": "server_error"}, -1000, "系统内部错误"),
        ({"kind": "server_error", "variant": 2}, 50101, SERVER_FAULT_TEXT),
        ({"kind": "rate_minute"}, 40203, f"抱歉，您每分钟最多访问该接口500次，{LIMIT_TAIL}"),
        (
            {"kind": "rate_minute", "limit": 50},
            40203,
            f"抱歉，您每分钟最多访问该接口50次，{LIMIT_TAIL}",
        ),
        ({"kind": "rate_day"}, 40203, f"抱歉，您每天最多访问该接口8000次，{LIMIT_TAIL}"),
        (
            {"kind": "rate_day", "limit": 100},
            40203,
            f"抱歉，您每天最多访问该接口100次，{LIMIT_TAIL}",
        ),
        ({"kind": "no_permission"}, 40203, f"抱歉，您没有接口(daily_basic)访问权限，{LIMIT_TAIL}"),
        ({"kind": "bad_token"}, 40101, TOKEN_TEXT),
    ],
)
def test_error_fault_exact_text(server: RunningServer, rule: dict, code: int, text: str) -> None:
    server.add_fault(rule)
    with pytest.raises(Exception) as raised:
        tushare_client(server).daily_basic(trade_date=DAY)
    assert str(raised.value) == text
    record = server.calls[-1]
    assert record.code == code
    assert record.fault == rule["kind"]
    assert record.rows == 0


def test_rate_fault_ignores_real_limiter(make_server) -> None:
    running = make_server(rate_limits={"daily": 1})
    running.add_fault({"kind": "rate_minute", "limit": 7})
    pro = tushare_client(running)
    with pytest.raises(Exception, match="最多访问该接口7次"):
        pro.daily(trade_date=DAY)
    # The faulted call did not reach the real limiter, so its one call is still free.
    assert len(pro.daily(trade_date=DAY)) > 0
    with pytest.raises(Exception, match="最多访问该接口1次"):
        pro.daily(trade_date=DAY)


# Schema drift faults


def test_extra_column_added(server: RunningServer) -> None:
    server.add_fault({"kind": "extra_column"})
    server.add_fault({"kind": "extra_column", "name": "memo", "value": "x", "after": 1})
    pro = tushare_client(server)
    frame = pro.daily(trade_date=DAY)
    assert list(frame.columns) == [*DATASETS["daily"].column_names, "new_field"]
    assert (frame["new_field"] == 0.0).all()
    named = pro.daily(trade_date=DAY, fields="ts_code,close")
    assert list(named.columns) == ["ts_code", "close", "memo"]
    assert (named["memo"] == "x").all()


def test_drop_column_removes(server: RunningServer) -> None:
    server.add_fault({"kind": "drop_column", "name": "vol", "times": 2})
    pro = tushare_client(server)
    frame = pro.daily(trade_date=DAY)
    assert "vol" not in frame.columns
    assert "amount" in frame.columns
    requested = pro.daily(trade_date=DAY, fields="ts_code,vol")
    assert list(requested.columns) == ["ts_code"]


def test_numbers_as_strings(server: RunningServer) -> None:
    clean = tushare_client(server).daily(trade_date=DAY)
    server.add_fault({"kind": "numbers_as_strings"})
    frame = tushare_client(server).daily(trade_date=DAY)
    assert not pd.api.types.is_numeric_dtype(frame["close"])
    assert frame["close"].tolist() == [str(value) for value in clean["close"]]
    assert frame["ts_code"].tolist() == clean["ts_code"].tolist()
    assert pd.to_numeric(frame["vol"]).tolist() == clean["vol"].tolist()


def test_numbers_as_strings_in_json(server: RunningServer) -> None:
    server.add_fault({"kind": "numbers_as_strings"})
    items = post(server, "trade_cal", {"start_date": "20261201", "end_date": TODAY}).json()
    is_open = [row[2] for row in items["data"]["items"]]
    assert is_open == ["1", "1", "1", "1"]


def test_nulls_deterministic(server: RunningServer) -> None:
    clean = tushare_client(server).daily(trade_date=DAY)
    server.add_fault({"kind": "nulls", "share": 0.2, "times": 2})
    first = tushare_client(server).daily(trade_date=DAY)
    second = tushare_client(server).daily(trade_date=DAY)
    numeric = [name for name in clean.columns if name not in ("ts_code", "trade_date")]
    nulled = first[numeric].isna()
    share = nulled.to_numpy().mean()
    assert 0.05 < share < 0.4
    assert nulled.equals(second[numeric].isna())
    assert first["ts_code"].notna().all()
    restored = first[numeric].where(~nulled, clean[numeric])
    pd.testing.assert_frame_equal(restored.astype(float), clean[numeric])


def test_nulls_at_least_one(server: RunningServer) -> None:
    server.add_fault({"kind": "nulls", "share": 0.0001})
    frame = tushare_client(server).daily(ts_code=listed_codes(server)[0], trade_date=DAY)
    assert len(frame) == 1
    assert frame.isna().sum().sum() == 1


def test_empty_keeps_fields(server: RunningServer) -> None:
    server.add_fault({"kind": "empty", "api": "adj_factor"})
    pro = tushare_client(server)
    frame = pro.adj_factor(trade_date=DAY)
    assert frame.empty
    assert list(frame.columns) == DATASETS["adj_factor"].column_names
    assert server.calls[-1].code == 0
    assert server.calls[-1].rows == 0
    assert len(pro.adj_factor(trade_date=DAY)) > 0


# Data faults


def test_partial_day_keeps_share(server: RunningServer) -> None:
    server.add_fault({"kind": "partial_day", "api": "adj_factor"})
    pro = tushare_client(server)
    frame = pro.adj_factor(start_date="20261130", end_date=TODAY)
    truth = server.table("adj_factor")
    truth = truth[truth["trade_date"] >= "20261130"]
    codes_by_day = frame.groupby("trade_date")["ts_code"].apply(set)
    assert len(codes_by_day) == 5
    for day, codes in codes_by_day.items():
        day_codes = set(truth.loc[truth["trade_date"] == day, "ts_code"])
        assert codes < day_codes, day
        assert len(codes) == len(day_codes) // 2, day
    assert len(set.intersection(*codes_by_day)) >= len(codes_by_day.iloc[0]) - 2
    assert frame["trade_date"].is_monotonic_decreasing
    assert len(pro.adj_factor(start_date="20261130", end_date=TODAY)) == len(truth)


def test_partial_day_share_option(server: RunningServer) -> None:
    codes = listed_codes(server)
    server.add_fault({"kind": "partial_day", "share": 0.9})
    frame = tushare_client(server).daily(trade_date=DAY)
    assert len(frame) == math.floor(len(codes) * 0.9)


def test_drop_symbols_on_adj_factor(server: RunningServer) -> None:
    dropped = listed_codes(server)[:2]
    server.add_fault({"kind": "drop_symbols", "api": "adj_factor", "codes": dropped})
    pro = tushare_client(server)
    daily = pro.daily(trade_date=DAY)
    factors = pro.adj_factor(trade_date=DAY)
    assert set(dropped) <= set(daily["ts_code"])
    assert set(daily["ts_code"]) - set(factors["ts_code"]) == set(dropped)


def test_drop_symbols_on_stock_basic(server: RunningServer) -> None:
    code = listed_codes(server)[0]
    server.add_fault({"kind": "drop_symbols", "codes": [code]})
    assert code not in set(tushare_client(server).stock_basic()["ts_code"])


def test_bad_values_daily(server: RunningServer) -> None:
    server.add_fault({"kind": "bad_values"})
    frame = tushare_client(server).daily(trade_date=DAY)
    broken = frame.head(3)
    assert (broken["high"] < broken["low"]).all()
    outside = (broken["close"] < broken["low"]) | (broken["close"] > broken["high"])
    assert outside.all()
    assert (broken["vol"] < 0).all()
    rest = frame.iloc[3:]
    assert (rest["high"] >= rest["low"]).all()
    assert (rest["vol"] >= 0).all()


def test_bad_values_other_datasets(server: RunningServer) -> None:
    server.add_fault({"kind": "bad_values", "api": "adj_factor", "rows": 4})
    server.add_fault({"kind": "bad_values", "api": "daily_basic", "rows": 2})
    pro = tushare_client(server)
    factors = pro.adj_factor(trade_date=DAY)
    assert (factors["adj_factor"].head(4) <= 0).all()
    assert (factors["adj_factor"].iloc[4:] > 0).all()
    basic = pro.daily_basic(trade_date=DAY)
    assert (basic["total_share"].head(2) < 0).all()
    assert (basic["total_share"].iloc[2:] > 0).all()


def test_closed_day_row_default(server: RunningServer) -> None:
    server.add_fault({"kind": "closed_day_row", "api": "daily"})
    pro = tushare_client(server)
    frame = pro.daily(trade_date=DAY)
    # 20261203 is a Thursday, so the first closed day after it is Saturday 20261205.
    assert frame["trade_date"].iloc[0] == "20261205"
    assert (frame["trade_date"] == "20261205").sum() == 1
    calendar = pro.trade_cal(start_date="20261205", end_date="20261205")
    assert calendar["is_open"].tolist() == [0]
    copied = frame.iloc[0].drop("trade_date")
    assert copied.equals(frame.iloc[1].drop("trade_date"))


def test_closed_day_row_given_date(server: RunningServer) -> None:
    server.add_fault({"kind": "closed_day_row", "date": "20261129"})
    frame = tushare_client(server).adj_factor(start_date="20261127", end_date=DAY)
    dates = frame["trade_date"].tolist()
    assert dates.count("20261129") == 1
    assert dates == sorted(dates, reverse=True)


def test_closed_day_row_rejects_open_day(server: RunningServer) -> None:
    with pytest.raises(FaultError, match="20261203 是交易日"):
        server.add_fault({"kind": "closed_day_row", "date": DAY})
    assert server.faults == []


def test_duplicate_row(server: RunningServer) -> None:
    server.add_fault({"kind": "duplicate_row", "api": "daily_basic"})
    frame = tushare_client(server).daily_basic(trade_date=DAY)
    keys = frame[["ts_code", "trade_date"]]
    assert keys.duplicated().sum() == 1
    assert frame.iloc[0].equals(frame.iloc[1])
    assert len(frame) == len(listed_codes(server)) + 1


def test_bad_code_daily(server: RunningServer) -> None:
    server.add_fault({"kind": "bad_code"})
    frame = tushare_client(server).daily(trade_date=DAY)
    assert frame["ts_code"].iloc[0] == "../../etc.SH"
    assert len(frame) == len(listed_codes(server)) + 1


def test_bad_code_stock_basic(server: RunningServer) -> None:
    server.add_fault({"kind": "bad_code", "api": "stock_basic", "code": "ABC.XX"})
    frame = tushare_client(server).stock_basic(fields="ts_code,symbol,name,list_status")
    row = frame.loc[frame["ts_code"] == "ABC.XX"]
    assert len(row) == 1
    assert row["symbol"].tolist() == ["ABC"]
    assert row["list_status"].tolist() == ["L"]
    assert frame["ts_code"].is_monotonic_increasing


def test_row_cap_after_data_faults(make_server) -> None:
    running = make_server(row_caps={"daily": 50})
    truth = running.table("daily")
    in_range = truth[truth["trade_date"] >= "20260101"].reset_index(drop=True)
    expected = keep_share_per_day(in_range, 0.5).head(50)

    running.add_fault({"kind": "partial_day"})
    frame = tushare_client(running).daily(start_date="20260101", end_date=TODAY)
    assert len(frame) == 50
    assert frame["ts_code"].tolist() == expected["ts_code"].tolist()
    assert frame["trade_date"].tolist() == expected["trade_date"].tolist()


def test_row_cap_cuts_faulted_rows(make_server) -> None:
    running = make_server(row_caps={"daily": 10})
    running.add_fault({"kind": "closed_day_row", "date": "20261129"})
    frame = tushare_client(running).daily(start_date="20261127", end_date=TODAY)
    # The extra row is older than the ten newest rows, so the cap drops it.
    assert len(frame) == 10
    assert "20261129" not in set(frame["trade_date"])
    assert running.faults[0].affected == 1


def test_truth_tables_stay_clean(server: RunningServer) -> None:
    before = server.source.table("daily")
    for rule in (
        {"kind": "bad_values", "rows": 40},
        {"kind": "numbers_as_strings"},
        {"kind": "nulls", "share": 0.5},
        {"kind": "drop_column", "name": "close"},
    ):
        server.add_fault(rule)
    tushare_client(server).daily(trade_date=DAY)
    pd.testing.assert_frame_equal(server.source.table("daily"), before)
    assert (server.table("daily")["vol"] >= 0).all()


# Counting, matching and healing


def test_after_and_times(server: RunningServer) -> None:
    rule = server.add_fault({"kind": "server_error", "api": "trade_cal", "after": 1, "times": 2})
    pro = tushare_client(server)
    outcomes = []
    for _ in range(4):
        try:
            pro.trade_cal(start_date=TODAY)
            outcomes.append("ok")
        except Exception as error:
            outcomes.append(str(error))
    assert outcomes == ["ok", "系统内部错误", "系统内部错误", "ok"]
    assert rule.seen == 4
    assert rule.affected == 2
    assert rule.healed


def test_times_forever(server: RunningServer) -> None:
    rule = server.add_fault({"kind": "bad_token", "times": -1})
    pro = tushare_client(server)
    for _ in range(5):
        with pytest.raises(Exception, match=TOKEN_TEXT):
            pro.trade_cal(start_date=TODAY)
    assert rule.affected == 5
    assert not rule.healed


def test_match_trade_date(server: RunningServer) -> None:
    rule = server.add_fault(
        {"kind": "server_error", "api": "daily", "match": {"trade_date": DAY}, "times": -1}
    )
    pro = tushare_client(server)
    assert len(pro.daily(trade_date=TODAY)) > 0
    assert len(pro.daily(start_date=DAY, end_date=DAY)) > 0
    with pytest.raises(Exception, match="系统内部错误"):
        pro.daily(trade_date=DAY)
    assert rule.seen == 1


def test_match_yaml_integer_date(server: RunningServer) -> None:
    server.add_fault({"kind": "empty", "match": {"trade_date": int(DAY)}})
    assert tushare_client(server).daily(trade_date=DAY).empty


def test_match_code_in_list(server: RunningServer) -> None:
    first, second, third = listed_codes(server)[:3]
    server.add_fault({"kind": "rate_minute", "match": {"ts_code": second}, "times": -1})
    pro = tushare_client(server)
    assert len(pro.daily(ts_code=f"{first},{third}", trade_date=DAY)) == 2
    with pytest.raises(Exception, match="每分钟"):
        pro.daily(ts_code=f"{first},{second},{third}", trade_date=DAY)
    with pytest.raises(Exception, match="每分钟"):
        pro.daily(ts_code=second, trade_date=DAY)


def test_match_list_of_values(server: RunningServer) -> None:
    server.add_fault({"kind": "empty", "match": {"trade_date": [DAY, TODAY]}, "times": -1})
    pro = tushare_client(server)
    assert pro.daily(trade_date=DAY).empty
    assert pro.daily(trade_date=TODAY).empty
    assert len(pro.daily(trade_date="20261202")) > 0


def test_api_selects_calls(server: RunningServer) -> None:
    rule = server.add_fault({"kind": "server_error", "api": "daily", "times": -1})
    pro = tushare_client(server)
    assert len(pro.adj_factor(trade_date=DAY)) > 0
    assert len(pro.trade_cal(start_date=TODAY)) > 0
    with pytest.raises(Exception, match="系统内部错误"):
        pro.daily(trade_date=DAY)
    assert rule.seen == 1


def test_any_api_skips_unsupported(server: RunningServer) -> None:
    rule = server.add_fault({"kind": "partial_day"})
    pro = tushare_client(server)
    assert len(pro.trade_cal(start_date="20261201", end_date=TODAY)) == 4
    assert rule.seen == 0
    pro.daily(trade_date=DAY)
    assert rule.affected == 1


def test_data_fault_skips_rejected_calls(server: RunningServer) -> None:
    rule = server.add_fault({"kind": "empty", "api": "daily"})
    pro = tushare_client(server)
    with pytest.raises(Exception, match="ts_code required"):
        pro.daily()
    assert rule.seen == 0
    assert pro.daily(trade_date=DAY).empty


def test_replacing_fault_stops_evaluation(server: RunningServer) -> None:
    delay = server.add_fault({"kind": "delay", "seconds": 0.05})
    first = server.add_fault({"kind": "server_error"})
    second = server.add_fault({"kind": "bad_token"})
    with pytest.raises(Exception, match="系统内部错误"):
        tushare_client(server).daily(trade_date=DAY)
    assert (delay.affected, first.affected, second.seen) == (1, 1, 0)
    assert server.calls[-1].fault == "delay,server_error"
    with pytest.raises(Exception, match=TOKEN_TEXT):
        tushare_client(server).daily(trade_date=DAY)


def test_clear_faults(server: RunningServer) -> None:
    server.add_fault({"kind": "server_error", "times": -1})
    pro = tushare_client(server)
    with pytest.raises(Exception, match="系统内部错误"):
        pro.daily(trade_date=DAY)
    server.clear_faults()
    assert server.faults == []
    assert len(pro.daily(trade_date=DAY)) > 0


def test_counting_thread_safe(server: RunningServer) -> None:
    rule = server.add_fault({"kind": "server_error", "api": "trade_cal", "after": 3, "times": 5})

    def call(_: int) -> str:
        try:
            tushare_client(server).trade_cal(start_date=TODAY)
        except Exception as error:
            return str(error)
        return "ok"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(call, range(24)))
    assert outcomes.count("系统内部错误") == 5
    assert outcomes.count("ok") == 19
    assert rule.seen == 24


def test_config_faults(make_server) -> None:
    running = make_server(faults=[{"kind": "empty", "api": "daily", "times": 2}])
    pro = tushare_client(running)
    assert pro.daily(trade_date=DAY).empty
    assert pro.daily(trade_date=DAY).empty
    assert len(pro.daily(trade_date=DAY)) > 0


# Call log


def test_call_log_fault_key(make_server, tmp_path: Path) -> None:
    log_path = tmp_path / "calls.jsonl"
    running = make_server(
        call_log=log_path,
        faults=[
            {"kind": "http_status", "status": 503, "api": "trade_cal"},
            {"kind": "partial_day", "api": "daily"},
        ],
    )
    pro = tushare_client(running)
    assert pro.trade_cal(start_date=TODAY).empty
    half = pro.daily(trade_date=DAY)
    whole = pro.daily(trade_date=DAY)

    lines = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines()]
    assert [line.get("fault") for line in lines] == ["http_status", "partial_day", None]
    assert "fault" not in lines[2]
    assert lines[0]["code"] is None
    assert lines[0]["rows"] == 0
    assert lines[1]["code"] == 0
    assert lines[1]["rows"] == len(half) < lines[2]["rows"] == len(whole)
    assert [call.to_dict() for call in running.calls] == lines


# Rule checks


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"kind": "explode"}, "未知的故障类型 'explode'"),
        ({"api": "daily"}, "缺少 kind"),
        ({"kind": "delay", "secs": 1}, "故障类型 delay 没有选项 'secs'"),
        ({"kind": "reset", "status": 500}, "故障类型 reset 没有选项 'status'"),
        ({"kind": "delay", "seconds": -1}, "seconds"),
        ({"kind": "http_status", "status": 200}, "400 到 599"),
        ({"kind": "server_error", "variant": 3}, "variant"),
        ({"kind": "drop_column"}, "缺少必需的选项 name"),
        ({"kind": "drop_symbols", "codes": "600000.SH"}, "codes"),
        ({"kind": "partial_day", "share": 1.5}, "0 到 1"),
        ({"kind": "partial_day", "api": "trade_cal"}, "只适用于接口"),
        ({"kind": "reset", "api": "moneyflow"}, "'moneyflow'"),
        ({"kind": "reset", "times": 0}, "times"),
        ({"kind": "reset", "after": -2}, "after"),
        ({"kind": "reset", "match": "20240614"}, "match"),
        ({"kind": "closed_day_row", "date": "2024-06-15"}, "YYYYMMDD"),
    ],
)
def test_invalid_rule_rejected(server: RunningServer, rule: dict, message: str) -> None:
    with pytest.raises(FaultError, match=message):
        server.add_fault(rule)
    assert server.faults == []


def test_config_rejects_unknown_kind() -> None:
    config = ServerConfig(faults=[{"kind": "reset"}, {"kind": "explode"}])
    with pytest.raises(ValueError, match="第 2 条故障规则：未知的故障类型 'explode'"):
        start_server(config)


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


FAULTS_YAML = """\
# Fault rules for the command-line test.
- kind: server_error
  api: trade_cal
  variant: 2
- kind: http_status
  api: daily
  match: {trade_date: 20261203}
  status: 502
  times: -1
- kind: extra_column
  api: adj_factor
"""


def test_command_line_faults_file(tmp_path: Path) -> None:
    faults_file = tmp_path / "faults.yaml"
    faults_file.write_text(FAULTS_YAML, encoding="utf-8")
    port_file = tmp_path / "port"
    call_log = tmp_path / "calls.jsonl"
    command = [
        sys.executable, "-m", "tslake.server", "--port", "0", "--port-file", str(port_file),
        "--faults", str(faults_file), "--symbols", "30", "--now", NOW,
        "--call-log", str(call_log),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=server_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        port = wait_for_port(process, port_file)
        pro = ts.pro_api("cli-token")
        pro._DataApi__http_url = f"http://127.0.0.1:{port}/dataapi"
        with pytest.raises(Exception) as raised:
            pro.trade_cal()
        assert str(raised.value) == SERVER_FAULT_TEXT
        assert len(pro.trade_cal(start_date=TODAY, end_date=TODAY)) == 1
        assert pro.daily(trade_date=DAY).empty
        assert pro.daily(trade_date=DAY).empty
        assert len(pro.daily(trade_date=TODAY)) > 0
        assert "new_field" in pro.adj_factor(trade_date=DAY).columns
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)

    assert process.returncode == 0, stderr
    assert "添加故障规则：http_status" in stderr
    lines = [json.loads(line) for line in call_log.read_text(encoding="utf-8").splitlines()]
    assert [line.get("fault") for line in lines] == [
        "server_error",
        None,
        "http_status",
        "http_status",
        None,
        "extra_column",
    ]


def test_command_line_rejects_bad_faults_file(tmp_path: Path) -> None:
    faults_file = tmp_path / "faults.json"
    faults_file.write_text(json.dumps([{"kind": "delay", "second": 3}]), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "tslake.server", "--faults", str(faults_file)],
        env=server_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "故障类型 delay 没有选项 'second'" in result.stderr
    assert str(faults_file) in result.stderr
