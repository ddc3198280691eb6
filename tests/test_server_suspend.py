"""Tests of suspend_d in the local Tushare server, driven through the real ``tushare`` client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import tushare_client

from tslake.registry import DATASETS
from tslake.server import SERVED_APIS, RunningServer, ServerConfig, SimMarket, start_server

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"

NOW = "2026-12-04T20:00"
TODAY = "20261204"
# Caps high enough that one call returns a whole year of the 200-stock market.
UNCAPPED = {"daily": 100_000, "suspend_d": 100_000}


@pytest.fixture(scope="module")
def market() -> SimMarket:
    # 200 stocks with seed 0 have suspensions in every year since 2010 and two
    # stocks suspended on TODAY.
    return SimMarket(symbols=200, seed=0)


@pytest.fixture(scope="module")
def server(market: SimMarket) -> Iterator[RunningServer]:
    with start_server(ServerConfig(now=NOW), source=market) as running:
        yield running


def codes_by_day(frame: pd.DataFrame) -> dict[str, set[str]]:
    """Return the set of ts_code of each trade_date in ``frame``."""
    return {day: set(rows["ts_code"]) for day, rows in frame.groupby("trade_date")}


def suspended_codes(market: SimMarket, count: int) -> list[str]:
    """Return the first ``count`` codes, in ts_code order, that have suspend_d rows."""
    codes = sorted(set(market.table("suspend_d")["ts_code"]))
    assert len(codes) >= count, "the simulated market has too few suspended stocks"
    return codes[:count]


# The invariant: listed stocks minus suspended stocks are the traded stocks


@pytest.mark.parametrize(("first", "last"), [("20200101", "20201231"), ("20260101", TODAY)])
def test_listed_minus_suspended_is_traded(
    make_server, market: SimMarket, first: str, last: str
) -> None:
    running = make_server(row_caps=UNCAPPED)
    pro = tushare_client(running)
    suspensions = pro.suspend_d(start_date=first, end_date=last)
    daily = pro.daily(start_date=first, end_date=last, fields="ts_code,trade_date")
    suspended = codes_by_day(suspensions[suspensions["suspend_type"] == "S"])
    traded = codes_by_day(daily)

    lo, hi = market.calendar.session_range(first, last)
    days = market.calendar.session_strings[lo:hi]
    assert len(days) > 200
    assert sum(len(codes) for codes in suspended.values()) > 50
    for day in days:
        as_of = market.stock_basic(day)
        listed = set(as_of.loc[as_of["list_status"] == "L", "ts_code"])
        suspended_today = suspended.get(day, set())
        assert suspended_today <= listed, day
        assert listed - suspended_today == traded.get(day, set()), day


def test_resume_row_on_first_traded_day(make_server, market: SimMarket) -> None:
    running = make_server(row_caps=UNCAPPED)
    pro = tushare_client(running)
    rows = pro.suspend_d(start_date="20100101", end_date=TODAY)
    resumed = rows[rows["suspend_type"] == "R"]
    suspended = {
        (code, day)
        for code, day, kind in zip(
            rows["ts_code"], rows["trade_date"], rows["suspend_type"], strict=True
        )
        if kind == "S"
    }
    strings = market.calendar.session_strings
    assert len(resumed) > 5
    for code, day in zip(resumed["ts_code"], resumed["trade_date"], strict=True):
        previous = str(strings[market.calendar.session_index(day) - 1])
        assert (code, previous) in suspended, (code, day)
        assert (code, day) not in suspended, (code, day)
        traded = pro.daily(ts_code=code, trade_date=day, fields="ts_code")
        assert len(traded) == 1, (code, day)


def test_timing_only_on_one_day_spans(server: RunningServer, market: SimMarket) -> None:
    table = market.table("suspend_d")
    timed = table[table["suspend_timing"].notna()]
    assert len(timed) > 0
    assert (timed["suspend_timing"] == "09:30-10:00").all()
    assert (timed["suspend_type"] == "S").all()
    strings = market.calendar.session_strings
    pro = tushare_client(server)
    for code, day in zip(timed["ts_code"], timed["trade_date"], strict=True):
        position = market.calendar.session_index(day)
        around = pro.suspend_d(
            ts_code=code,
            start_date=str(strings[position - 1]),
            end_date=str(strings[position + 1]),
            suspend_type="S",
        )
        assert around["trade_date"].tolist() == [day], code
        assert around["suspend_timing"].tolist() == ["09:30-10:00"], code


# Parameters, order, row cap and clock


def test_single_code_filter(server: RunningServer, market: SimMarket) -> None:
    code = suspended_codes(market, 1)[0]
    frame = tushare_client(server).suspend_d(ts_code=code)
    table = market.table("suspend_d")
    expected = table[table["ts_code"] == code]
    assert len(frame) > 0
    assert (frame["ts_code"] == code).all()
    assert frame["trade_date"].tolist() == expected["trade_date"].tolist()
    assert frame["suspend_type"].tolist() == expected["suspend_type"].tolist()


def test_code_list_filter(server: RunningServer, market: SimMarket) -> None:
    codes = suspended_codes(market, 3)
    frame = tushare_client(server).suspend_d(ts_code=",".join(codes), start_date="19900101")
    table = market.table("suspend_d")
    expected = table[table["ts_code"].isin(codes)]
    assert set(frame["ts_code"]) == set(codes)
    assert frame["ts_code"].tolist() == expected["ts_code"].tolist()
    assert frame["trade_date"].tolist() == expected["trade_date"].tolist()


def test_unknown_code_has_no_rows(server: RunningServer) -> None:
    frame = tushare_client(server).suspend_d(ts_code="999999.SH")
    assert frame.empty
    assert list(frame.columns) == DATASETS["suspend_d"].column_names


def test_suspend_type_filter(server: RunningServer) -> None:
    pro = tushare_client(server)
    both = pro.suspend_d(start_date="20200101", end_date="20201231")
    only_s = pro.suspend_d(start_date="20200101", end_date="20201231", suspend_type="S")
    only_r = pro.suspend_d(start_date="20200101", end_date="20201231", suspend_type="R")
    assert (only_s["suspend_type"] == "S").all()
    assert (only_r["suspend_type"] == "R").all()
    assert len(only_r) > 0
    assert len(only_s) + len(only_r) == len(both)
    assert pro.suspend_d(start_date="20200101", suspend_type="X").empty


def test_range_newest_first(server: RunningServer) -> None:
    frame = tushare_client(server).suspend_d(start_date="20180101", end_date="20221231")
    expected = frame.sort_values(["trade_date", "ts_code"], ascending=[False, True])
    assert frame["trade_date"].nunique() > 20
    assert frame.index.equals(expected.index)
    assert frame.iloc[0]["trade_date"] <= "20221231"
    assert frame.iloc[-1]["trade_date"] >= "20180101"
    assert not frame.duplicated(["ts_code", "trade_date"]).any()


def test_cross_section_one_day(server: RunningServer, market: SimMarket) -> None:
    frame = tushare_client(server).suspend_d(trade_date=TODAY)
    table = market.table("suspend_d")
    expected = table[table["trade_date"] == TODAY]
    assert len(frame) == 2
    assert frame["ts_code"].tolist() == expected["ts_code"].tolist()
    assert (frame["trade_date"] == TODAY).all()


def test_row_cap_drops_oldest(make_server, market: SimMarket) -> None:
    running = make_server(row_caps={"suspend_d": 30})
    frame = tushare_client(running).suspend_d(start_date="19900101")
    table = running.table("suspend_d")
    assert len(frame) == 30
    assert frame["ts_code"].tolist() == table["ts_code"].head(30).tolist()
    assert frame["trade_date"].tolist() == table["trade_date"].head(30).tolist()
    assert frame["trade_date"].iloc[0] == TODAY


def test_no_selector_serves_newest(make_server) -> None:
    running = make_server(row_caps={"suspend_d": 100})
    frame = tushare_client(running).suspend_d()
    table = running.table("suspend_d")
    assert len(frame) == 100
    assert frame["trade_date"].tolist() == table["trade_date"].head(100).tolist()
    assert frame["ts_code"].tolist() == table["ts_code"].head(100).tolist()


def test_unpublished_day_hidden(make_server) -> None:
    running = make_server(now="2026-12-04T09:29")
    pro = tushare_client(running)
    assert pro.suspend_d(trade_date=TODAY).empty
    history = pro.suspend_d(start_date="20261101")
    assert history["trade_date"].iloc[0] < TODAY
    assert running.table("suspend_d")["trade_date"].iloc[0] < TODAY

    running.set_now("2026-12-04T09:30")
    assert len(pro.suspend_d(trade_date=TODAY)) == 2
    assert pro.daily(trade_date=TODAY).empty


def test_future_suspensions_not_served(server: RunningServer, market: SimMarket) -> None:
    assert market.table("suspend_d")["trade_date"].iloc[0] > TODAY
    frame = tushare_client(server).suspend_d(start_date="20261201", end_date="20271231")
    assert frame["trade_date"].max() == TODAY


# Faults, call log and served APIs


def test_request_fault_and_call_log(make_server) -> None:
    running = make_server(faults=[{"kind": "server_error", "api": "suspend_d"}])
    pro = tushare_client(running)
    with pytest.raises(Exception, match="系统内部错误"):
        pro.suspend_d(trade_date=TODAY)
    frame = pro.suspend_d(trade_date=TODAY, fields="ts_code")
    calls = running.calls
    assert [call.api for call in calls] == ["suspend_d", "suspend_d"]
    assert calls[0].fault == "server_error"
    assert calls[1].rows == len(frame) == 2
    assert calls[1].params == {"trade_date": TODAY}


def test_duplicate_row_fault(make_server) -> None:
    running = make_server(faults=[{"kind": "duplicate_row", "api": "suspend_d"}])
    frame = tushare_client(running).suspend_d(trade_date=TODAY)
    assert len(frame) == 3
    assert frame.iloc[0].tolist() == frame.iloc[1].tolist()


def test_daily_data_fault_rejected(server: RunningServer) -> None:
    with pytest.raises(ValueError, match="只适用于接口"):
        server.add_fault({"kind": "partial_day", "api": "suspend_d"})


def test_served_apis_include_suspend_d(server: RunningServer) -> None:
    assert "suspend_d" in SERVED_APIS
    assert server.source.table("suspend_d").columns.tolist() == [
        "ts_code",
        "trade_date",
        "suspend_timing",
        "suspend_type",
    ]


def test_whole_table_unique_keys(server: RunningServer) -> None:
    # The table reaches past TODAY, where 300894.SZ has two overlapping suspensions.
    table = server.source.table("suspend_d")
    expected = table.sort_values(["trade_date", "ts_code"], ascending=[False, True])
    assert table["trade_date"].iloc[0] > TODAY
    assert table.index.equals(expected.index)
    assert not table.duplicated(["ts_code", "trade_date"]).any()


def test_same_rows_in_larger_market(market: SimMarket) -> None:
    small = market.table("suspend_d")
    large = SimMarket(symbols=400, seed=0).table("suspend_d")
    large = large[large["ts_code"].isin(set(small["ts_code"]))].reset_index(drop=True)
    pd.testing.assert_frame_equal(small, large)


# Replay of the recorded real response


@pytest.fixture(scope="module")
def replay_server() -> Iterator[RunningServer]:
    assert REALDATA.is_dir(), f"recorded data not found at {REALDATA}"
    with start_server(ServerConfig(replay=REALDATA, now=NOW)) as running:
        yield running


def test_replay_rows_equal_recording(replay_server: RunningServer) -> None:
    frame = tushare_client(replay_server).suspend_d(trade_date="20200312")
    path = REALDATA / "suspend_d" / "suspend_d.tushare-kmp.json"
    recorded = json.loads(path.read_text(encoding="utf-8"))["data"]
    assert len(frame) == 21
    assert list(frame.columns) == recorded["fields"]
    # The client turns JSON nulls into NaN, the recording has them as None.
    assert frame.to_numpy(dtype=object, na_value=None).tolist() == recorded["items"]
    assert frame["suspend_timing"].isna().sum() == 19


def test_replay_filters(replay_server: RunningServer) -> None:
    pro = tushare_client(replay_server)
    beijing = pro.suspend_d(ts_code="835857.BJ", start_date="20200101")
    assert beijing["trade_date"].tolist() == ["20200312"]
    timed = pro.suspend_d(ts_code="300819.SZ,300821.SZ", trade_date="20200312")
    assert timed["suspend_timing"].tolist() == ["09:30-10:00", "09:30-10:00"]
    assert pro.suspend_d(trade_date="20200312", suspend_type="R").empty
    assert pro.suspend_d(trade_date="20200313").empty
    assert len(replay_server.source.table("suspend_d")) == 21
