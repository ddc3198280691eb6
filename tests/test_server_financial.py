"""Tests of the financial APIs of the local Tushare server, driven through the real ``tushare`` client."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests
from conftest import tushare_client

from tslake.registry import DATASETS
from tslake.server import ReplaySource, RunningServer, ServerConfig, SimMarket, start_server
from tslake.server.financial_queries import EventQuery, ReportQuery

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"

NOW = "2026-12-04T20:00"
# Rows announced up to this day are published at NOW (20:00 on the day after).
VISIBLE = "20261203"
REQUIRED_TEXT = "ts_code required"
PERMISSION_TEXT = (
    "抱歉，您没有接口({})访问权限，权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。"
)
UNCAPPED = {"income": 100_000, "fina_indicator": 100_000, "dividend": 100_000}


def post(server: RunningServer, api: str, params: dict) -> dict:
    """Post a raw request and return the decoded response."""
    body = {"api_name": api, "token": "t", "params": params, "fields": ""}
    response = requests.post(server.url, json=body, timeout=30)
    assert response.status_code == 200
    return response.json()


def rows_of(frame: pd.DataFrame) -> list[list]:
    """Return the rows of ``frame`` as lists, with every null as None."""
    return frame.astype(object).where(frame.notna(), None).values.tolist()


def next_day(day: str) -> str:
    return (date.fromisoformat(f"{day[:4]}-{day[4:6]}-{day[6:]}") + timedelta(days=1)).isoformat()


def publication_time(day: str) -> str:
    """Return the Shanghai time (ISO) at which rows announced on ``day`` are published."""
    return f"{next_day(day)}T20:00"


@pytest.fixture(scope="module")
def market() -> SimMarket:
    return SimMarket(symbols=60, seed=11)


@pytest.fixture(scope="module")
def server(market: SimMarket) -> Iterator[RunningServer]:
    with start_server(ServerConfig(now=NOW), source=market) as running:
        yield running


def old_code(market: SimMarket) -> str:
    """Return a listed stock that has reported since before 2010."""
    for listing in market.universe.listings:
        schedule = market.schedule(listing.ts_code)
        if listing.status == "L" and len(schedule) and schedule.end_dates[0] < 20100101:
            return listing.ts_code
    raise AssertionError("the simulated market has no stock listed before 2010")


def corrected_report(market: SimMarket, corrections: int) -> tuple[str, str, str, list[str]]:
    """Return (ts_code, end_date, ann_date, correction days) of a report corrected
    exactly ``corrections`` times, all before VISIBLE."""
    for listing in market.universe.listings:
        schedule = market.schedule(listing.ts_code)
        for position in range(len(schedule)):
            days = [int(day) for day in schedule.corrections[position] if day > 0]
            if len(days) == corrections and days[-1] <= int(VISIBLE):
                return (
                    listing.ts_code,
                    str(schedule.end_dates[position]),
                    str(schedule.announcements[position]),
                    [str(day) for day in days],
                )
    raise AssertionError(f"the simulated market has no report corrected {corrections} times")


# Required parameters and permissions


@pytest.mark.parametrize("api", ["income", "balancesheet", "cashflow", "fina_indicator"])
def test_reports_require_ts_code(server: RunningServer, api: str) -> None:
    with pytest.raises(Exception, match=REQUIRED_TEXT):
        getattr(tushare_client(server), api)(start_date="20250101")


@pytest.mark.parametrize("api", ["income", "balancesheet", "cashflow"])
def test_statement_period_needs_vip(server: RunningServer, market: SimMarket, api: str) -> None:
    response = post(server, api, {"ts_code": old_code(market), "period": "20251231"})
    assert response["code"] == 40203
    assert response["msg"] == PERMISSION_TEXT.format(api)


def test_dividend_requires_a_parameter(server: RunningServer) -> None:
    response = post(server, "dividend", {"end_date": "20251231"})
    assert response["code"] == 40101
    assert response["msg"] == REQUIRED_TEXT


def test_disclosure_date_needs_no_parameter(server: RunningServer) -> None:
    frame = tushare_client(server).disclosure_date()
    assert len(frame) == DATASETS["disclosure_date"].row_cap
    assert frame["end_date"].is_monotonic_decreasing


def test_malformed_date_rejected(server: RunningServer, market: SimMarket) -> None:
    response = post(server, "income", {"ts_code": old_code(market), "start_date": "2025-01-01"})
    assert response["code"] == 40101
    assert "start_date" in response["msg"]


# Statements: filters, report types, order and row cap


def test_statement_columns_and_types(server: RunningServer, market: SimMarket) -> None:
    pro = tushare_client(server)
    for api in ("income", "balancesheet", "cashflow", "fina_indicator"):
        frame = getattr(pro, api)(ts_code=old_code(market))
        assert list(frame.columns) == DATASETS[api].column_names, api
        assert set(frame["update_flag"]) <= {"0", "1"}
    income = pro.income(ts_code=old_code(market))
    assert set(income["end_type"]) == {"1", "2", "3", "4"}
    assert set(income["comp_type"]) <= {"1", "2"}
    assert (income["revenue"] > 0).all()
    assert income["ebitda"].notna().all()
    assert income["insurance_exp"].isna().all()


def test_date_filter_on_f_ann_date(server: RunningServer, market: SimMarket) -> None:
    code, end_date, ann_date, (correction,) = corrected_report(market, 1)
    frame = tushare_client(server).income(ts_code=code, start_date=correction, end_date=correction)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["f_ann_date"] == correction
    assert row["ann_date"] == ann_date
    assert row["end_date"] == end_date


def test_date_filter_range_inclusive(server: RunningServer, market: SimMarket) -> None:
    code = old_code(market)
    everything = tushare_client(server).income(ts_code=code, start_date="20200101")
    first, last = "20220101", "20231231"
    frame = tushare_client(server).income(ts_code=code, start_date=first, end_date=last)
    expected = everything[everything["f_ann_date"].between(first, last)]
    assert len(frame) > 4
    assert rows_of(frame) == rows_of(expected)


def test_report_type_defaults_to_one(server: RunningServer, market: SimMarket) -> None:
    code = old_code(market)
    default = tushare_client(server).income(ts_code=code)
    assert set(default["report_type"]) == {"1"}
    empty = post(server, "income", {"ts_code": code, "report_type": ""})
    assert len(empty["data"]["items"]) == len(default)


def test_report_type_selects_one(server: RunningServer, market: SimMarket) -> None:
    code = old_code(market)
    quarters = tushare_client(server).income(ts_code=code, report_type="2")
    assert set(quarters["report_type"]) == {"2"}
    assert "4" not in set(quarters["end_type"])
    to_date = tushare_client(server).income(ts_code=code)
    first_quarter = to_date[to_date["end_type"] == "1"].iloc[0]
    same = quarters[quarters["end_date"] == first_quarter["end_date"]].iloc[0]
    assert same["revenue"] == first_quarter["revenue"]


def test_adjusted_annual_reports(make_server, market: SimMarket) -> None:
    running = make_server(row_caps={"income": 100_000})
    pro = tushare_client(running)
    adjusted = pd.concat(
        [pro.income(ts_code=code, report_type="4") for code in market.stock_basic()["ts_code"]]
    )
    assert len(adjusted) > 0
    assert set(adjusted["end_type"]) == {"4"}
    assert (adjusted["ann_date"] == adjusted["f_ann_date"]).all()
    # The adjusted version comes out with the next annual report.
    assert (
        adjusted["f_ann_date"].str[:4].astype(int) == adjusted["end_date"].str[:4].astype(int) + 2
    ).all()


def test_statements_newest_first(server: RunningServer, market: SimMarket) -> None:
    frame = tushare_client(server).income(ts_code=old_code(market))
    keys = list(zip(frame["f_ann_date"], frame["end_date"], strict=True))
    assert keys == sorted(keys, reverse=True)
    assert frame["f_ann_date"].iloc[0] <= VISIBLE


def test_row_cap_drops_oldest(make_server, market: SimMarket) -> None:
    code = old_code(market)
    whole = tushare_client(make_server(row_caps=UNCAPPED)).income(ts_code=code)
    capped = tushare_client(make_server(row_caps={"income": 10})).income(ts_code=code)
    assert len(whole) > 10
    assert rows_of(capped) == rows_of(whole.head(10))


def test_default_row_caps(server: RunningServer, market: SimMarket) -> None:
    pro = tushare_client(server)
    code = old_code(market)
    assert len(pro.balancesheet(ts_code=code)) == DATASETS["balancesheet"].row_cap
    assert len(pro.fina_indicator(ts_code=code)) == DATASETS["fina_indicator"].row_cap


# Corrections and update_flag


def test_correction_flags_after_publication(make_server, market: SimMarket) -> None:
    code, end_date, ann_date, (correction,) = corrected_report(market, 1)
    running = make_server()
    pro = tushare_client(running)

    running.set_now(f"{next_day(correction)}T19:59")
    before = pro.income(ts_code=code, start_date=ann_date)
    versions = before[before["end_date"] == end_date]
    assert versions[["f_ann_date", "update_flag"]].values.tolist() == [[ann_date, "1"]]

    running.set_now(publication_time(correction))
    after = pro.income(ts_code=code, start_date=ann_date)
    versions = after[after["end_date"] == end_date]
    assert versions[["ann_date", "f_ann_date", "update_flag"]].values.tolist() == [
        [ann_date, correction, "1"],
        [ann_date, ann_date, "0"],
    ]
    changed = versions.iloc[0]["n_income"] != versions.iloc[1]["n_income"]
    assert changed or versions.iloc[0]["revenue"] != versions.iloc[1]["revenue"]


def test_twice_corrected_report(server: RunningServer, market: SimMarket) -> None:
    code, end_date, ann_date, corrections = corrected_report(market, 2)
    frame = tushare_client(server).balancesheet(ts_code=code, start_date=ann_date, end_date=VISIBLE)
    versions = frame[frame["end_date"] == end_date]
    assert versions["f_ann_date"].tolist() == [corrections[1], corrections[0], ann_date]
    assert versions["update_flag"].tolist() == ["1", "0", "0"]
    assert (versions["ann_date"] == ann_date).all()


def test_indicator_correction_has_own_ann_date(server: RunningServer, market: SimMarket) -> None:
    code, end_date, ann_date, (correction,) = corrected_report(market, 1)
    frame = tushare_client(server).fina_indicator(
        ts_code=code, start_date=ann_date, end_date=correction
    )
    versions = frame[frame["end_date"] == end_date]
    assert versions[["ann_date", "update_flag"]].values.tolist() == [
        [correction, "1"],
        [ann_date, "0"],
    ]
    narrow = tushare_client(server).fina_indicator(
        ts_code=code, start_date=correction, end_date=correction
    )
    assert narrow["end_date"].tolist() == [end_date]


# disclosure_date


def test_disclosure_matches_first_versions(make_server, market: SimMarket) -> None:
    running = make_server(row_caps=UNCAPPED)
    pro = tushare_client(running)
    first_versions = []
    for code in market.stock_basic()["ts_code"]:
        frame = pro.income(ts_code=code)
        first_versions.append(frame[frame["f_ann_date"] == frame["ann_date"]])
    originals = pd.concat(first_versions)
    busiest = originals["f_ann_date"].value_counts()
    days = [busiest.index[0], busiest.index[-1], "20260430", "20250829"]
    for day in days:
        disclosed = pro.disclosure_date(actual_date=day)
        published = originals[originals["f_ann_date"] == day]
        assert set(disclosed["ts_code"]) == set(published["ts_code"]), day
        pairs = set(zip(disclosed["ts_code"], disclosed["end_date"], strict=True))
        assert pairs == set(zip(published["ts_code"], published["end_date"], strict=True)), day
    assert len(pro.disclosure_date(actual_date=busiest.index[0])) >= 2


def test_disclosure_fields(server: RunningServer, market: SimMarket) -> None:
    frame = tushare_client(server).disclosure_date(ts_code=old_code(market))
    assert list(frame.columns) == DATASETS["disclosure_date"].column_names
    assert frame["end_date"].is_monotonic_decreasing
    assert (frame["ann_date"] < frame["pre_date"]).all()
    assert frame["actual_date"].notna().all()
    assert (frame["pre_date"] <= frame["actual_date"]).all()


def test_disclosure_modified_plans(server: RunningServer, market: SimMarket) -> None:
    table = server.table("disclosure_date")
    moved = table[table["modify_date"].notna()]
    assert len(moved) > 0
    for _, row in moved.iterrows():
        earlier = row["modify_date"].split(",")
        assert all(day < row["pre_date"] for day in earlier)
        assert row["ann_date"] < earlier[-1]
    assert moved["modify_date"].str.contains(",").any()


def test_disclosure_plan_change_visibility(make_server, market: SimMarket) -> None:
    table = market.table("disclosure_date")
    moved = table[table["modify_date"].notna() & ~table["modify_date"].str.contains(",", na=False)]
    row = moved[moved["ann_date"] > "20100101"].iloc[0]
    running = make_server(now=f"{next_day(row['ann_date'])}T19:59")
    pro = tushare_client(running)
    before = pro.disclosure_date(ts_code=row["ts_code"], end_date=row["end_date"])
    assert before["pre_date"].tolist() == [row["modify_date"]]
    assert before["modify_date"].isna().all()
    running.set_now(publication_time(row["ann_date"]))
    after = pro.disclosure_date(ts_code=row["ts_code"], end_date=row["end_date"])
    assert after[["pre_date", "modify_date"]].values.tolist() == [
        [row["pre_date"], row["modify_date"]]
    ]


def test_actual_date_hidden_until_published(make_server, market: SimMarket) -> None:
    code = old_code(market)
    schedule = market.schedule(code)
    day = str(schedule.announcements[-8])
    end_date = str(schedule.end_dates[-8])
    running = make_server(now=f"{next_day(day)}T19:59")
    before = tushare_client(running).disclosure_date(ts_code=code, end_date=end_date)
    assert before["actual_date"].isna().all()
    assert tushare_client(running).disclosure_date(actual_date=day).empty
    running.set_now(publication_time(day))
    after = tushare_client(running).disclosure_date(ts_code=code, end_date=end_date)
    assert after["actual_date"].tolist() == [day]


# dividend


def implemented(market: SimMarket, server: RunningServer) -> pd.DataFrame:
    """Return every visible 实施 row of the market."""
    table = server.table("dividend")
    return table[table["div_proc"] == "实施"]


def test_dividend_stages(server: RunningServer, market: SimMarket) -> None:
    table = server.table("dividend")
    assert set(table["div_proc"]) == {"预案", "股东大会通过", "实施"}
    plans = table.groupby(["ts_code", "end_date"])
    complete = 0
    for (_code, end_date), rows in plans:
        stages = rows.set_index("div_proc")
        if len(stages) < 3:
            continue
        complete += 1
        proposal, approval, implementation = (
            stages.loc[name] for name in ("预案", "股东大会通过", "实施")
        )
        assert approval["ann_date"] == proposal["ann_date"]
        assert implementation["ann_date"] == proposal["ann_date"]
        assert proposal["ann_date"] < implementation["imp_ann_date"]
        assert (
            implementation["imp_ann_date"]
            < implementation["record_date"]
            < implementation["ex_date"]
        )
        assert pd.isna(proposal["imp_ann_date"])
        assert pd.isna(approval["imp_ann_date"])
        assert implementation["pay_date"] == implementation["ex_date"]
        assert proposal["cash_div"] == 0.0
        assert proposal["cash_div_tax"] == implementation["cash_div_tax"]
        assert implementation["cash_div"] == implementation["cash_div_tax"]
        assert pd.isna(proposal["ex_date"])
        assert pd.isna(proposal["record_date"])
        assert end_date < proposal["ann_date"]
    assert complete > 20


def test_dividend_matches_factor_steps(server: RunningServer, market: SimMarket) -> None:
    pro = tushare_client(server)
    rows = implemented(market, server)
    ex_counts = rows.groupby(["ts_code", "ex_date"]).size()
    checked = 0
    for _, row in rows.iterrows():
        if ex_counts[(row["ts_code"], row["ex_date"])] > 1:
            continue
        factors = pro.adj_factor(
            ts_code=row["ts_code"], start_date=row["record_date"], end_date=row["ex_date"]
        )
        daily = pro.daily(ts_code=row["ts_code"], trade_date=row["record_date"])
        assert factors["trade_date"].tolist() == [row["ex_date"], row["record_date"]]
        after, before = factors["adj_factor"].tolist()
        close = daily["close"].iloc[0]
        expected = (1.0 + row["stk_div"]) / (1.0 - row["cash_div_tax"] / close)
        assert after / before == pytest.approx(expected, abs=2e-3), row.to_dict()
        checked += 1
    assert checked > 20


def test_factor_steps_have_dividends(server: RunningServer, market: SimMarket) -> None:
    code = old_code(market)
    factors = tushare_client(server).adj_factor(
        ts_code=code, start_date="20100101", end_date=VISIBLE
    )
    factors = factors.iloc[::-1]
    steps = factors.loc[factors["adj_factor"].diff() > 0, "trade_date"]
    dividends = tushare_client(server).dividend(ts_code=code)
    ex_dates = dividends.loc[dividends["div_proc"] == "实施", "ex_date"]
    assert len(steps) > 5
    assert set(steps) == set(ex_dates[ex_dates.between("20100101", VISIBLE)])


def test_dividend_cross_section(server: RunningServer, market: SimMarket) -> None:
    table = server.table("dividend")
    day = table["ann_date"].value_counts().index[0]
    frame = tushare_client(server).dividend(ann_date=day)
    expected = table[table["ann_date"] == day].reset_index(drop=True)
    assert len(frame) >= 2
    assert rows_of(frame) == rows_of(expected)
    ex_day = implemented(market, server)["ex_date"].iloc[0]
    by_ex_date = tushare_client(server).dividend(ex_date=ex_day)
    assert set(by_ex_date["div_proc"]) == {"实施"}
    assert (by_ex_date["ex_date"] == ex_day).all()


def test_dividend_by_imp_ann_date(server: RunningServer, market: SimMarket) -> None:
    rows = implemented(market, server)
    busiest = rows["imp_ann_date"].value_counts()
    for day in (busiest.index[0], busiest.index[-1]):
        frame = tushare_client(server).dividend(imp_ann_date=day)
        expected = rows[rows["imp_ann_date"] == day].reset_index(drop=True)
        assert len(frame) >= 1, day
        assert set(frame["div_proc"]) == {"实施"}, day
        assert rows_of(frame) == rows_of(expected), day
    assert len(tushare_client(server).dividend(imp_ann_date=busiest.index[0])) >= 2


def test_dividend_imp_ann_date_with_code(server: RunningServer, market: SimMarket) -> None:
    row = implemented(market, server).iloc[0]
    pro = tushare_client(server)
    frame = pro.dividend(ts_code=row["ts_code"], imp_ann_date=row["imp_ann_date"])
    assert frame["div_proc"].tolist() == ["实施"]
    assert frame["end_date"].tolist() == [row["end_date"]]
    assert pro.dividend(ts_code="000000.SZ", imp_ann_date=row["imp_ann_date"]).empty
    assert pro.dividend(ann_date=row["ann_date"], imp_ann_date=row["ann_date"]).empty


def test_dividend_stages_published_in_turn(make_server, market: SimMarket) -> None:
    table = market.table("dividend")
    plans = table[(table["div_proc"] == "实施") & (table["ann_date"] > "20200101")]
    plan = plans.iloc[0]
    code, proposal_day, implementation_day = plan[["ts_code", "ann_date", "imp_ann_date"]]
    running = make_server(now=f"{next_day(proposal_day)}T19:59")
    pro = tushare_client(running)

    def stages() -> list[str]:
        frame = pro.dividend(ts_code=code, ann_date=proposal_day)
        assert (frame["ann_date"] == proposal_day).all()
        return frame["div_proc"].tolist()

    assert stages() == []
    running.set_now(publication_time(proposal_day))
    assert stages() == ["预案"]
    # The approval lies 11 days or more before the implementation announcement.
    running.set_now(f"{next_day(implementation_day)}T19:59")
    assert stages() == ["预案", "股东大会通过"]
    assert pro.dividend(ts_code=code, imp_ann_date=implementation_day).empty
    running.set_now(publication_time(implementation_day))
    assert stages() == ["预案", "股东大会通过", "实施"]
    by_day = pro.dividend(ts_code=code, imp_ann_date=implementation_day)
    assert by_day["ann_date"].tolist() == [proposal_day]


def test_dividend_newest_first(server: RunningServer, market: SimMarket) -> None:
    frame = tushare_client(server).dividend(ts_code=old_code(market))
    assert frame["ann_date"].is_monotonic_decreasing
    assert frame["ann_date"].iloc[0] <= VISIBLE


def test_future_ex_date_proposal_visible(server: RunningServer, market: SimMarket) -> None:
    table = server.table("dividend")
    plans = table.groupby(["ts_code", "end_date"])["div_proc"].agg(set)
    assert any(stages == {"预案"} for stages in plans)


def test_dividend_visibility(make_server, market: SimMarket) -> None:
    day = market.table("dividend")["ann_date"].iloc[-200]
    running = make_server(now=f"{next_day(day)}T19:59")
    assert tushare_client(running).dividend(ann_date=day).empty
    running.set_now(publication_time(day))
    assert len(tushare_client(running).dividend(ann_date=day)) >= 1


def test_publish_time_option(make_server, market: SimMarket) -> None:
    day = market.table("dividend")["ann_date"].iloc[-200]
    running = make_server(now=f"{next_day(day)}T18:00", publish_times={"dividend": "17:00"})
    assert len(tushare_client(running).dividend(ann_date=day)) >= 1


# Determinism


def test_same_seed_same_tables() -> None:
    first = SimMarket(symbols=30, seed=5)
    second = SimMarket(symbols=30, seed=5)
    other = SimMarket(symbols=30, seed=6)
    for name in ("income", "fina_indicator", "dividend", "disclosure_date"):
        pd.testing.assert_frame_equal(first.table(name), second.table(name))
        assert not first.table(name).equals(other.table(name)), name


def test_stock_same_in_larger_market(market: SimMarket) -> None:
    larger = SimMarket(symbols=90, seed=11)
    code = old_code(market)
    query = ReportQuery(code)
    for name in ("income", "cashflow"):
        pd.testing.assert_frame_equal(
            larger.report_rows(name, query, VISIBLE), market.report_rows(name, query, VISIBLE)
        )
    small = market.event_rows("dividend", EventQuery({"ts_code": code}), VISIBLE)
    large = larger.event_rows("dividend", EventQuery({"ts_code": code}), VISIBLE)
    pd.testing.assert_frame_equal(small, large)


# Replay of recorded responses


@pytest.fixture(scope="module")
def replay_server() -> Iterator[RunningServer]:
    with start_server(ServerConfig(now=NOW, replay=REALDATA)) as running:
        yield running


def recorded(folder: str) -> dict:
    path = next((REALDATA / folder).glob("*.json"))
    return json.loads(path.read_text(encoding="utf-8"))["data"]


@pytest.mark.parametrize(
    ("api", "code"),
    [("income", "600502.SH"), ("balancesheet", "600000.SH"), ("cashflow", "600000.SH")],
)
def test_replay_statements(replay_server: RunningServer, api: str, code: str) -> None:
    data = recorded(api)
    frame = getattr(tushare_client(replay_server), api)(ts_code=code)
    record = dict(zip(data["fields"], data["items"][0], strict=True))
    assert list(frame.columns) == DATASETS[api].column_names
    assert len(frame) == 1
    served = frame.iloc[0].to_dict()
    for name, value in record.items():
        if value is None:
            assert pd.isna(served[name]), name
        else:
            assert served[name] == value, name


def test_replay_statement_filters(replay_server: RunningServer) -> None:
    pro = tushare_client(replay_server)
    assert pro.balancesheet(ts_code="600000.SH", start_date="20180429").empty
    assert len(pro.balancesheet(ts_code="600000.SH", end_date="20180428")) == 1
    assert pro.income(ts_code="600502.SH", report_type="2").empty
    assert pro.cashflow(ts_code="600000.SH")["update_flag"].tolist() == ["0"]
    with pytest.raises(Exception, match=REQUIRED_TEXT):
        pro.income()


def test_replay_dividend(replay_server: RunningServer) -> None:
    data = recorded("dividend")
    frame = tushare_client(replay_server).dividend(ts_code="600000.SH")
    assert list(frame.columns) == data["fields"]
    assert rows_of(frame) == data["items"]
    one_day = tushare_client(replay_server).dividend(ann_date="20240430")
    assert one_day["div_proc"].tolist() == ["预案", "股东大会通过", "实施"]
    assert tushare_client(replay_server).dividend(ex_date="20240718")["div_proc"].tolist() == [
        "实施"
    ]
    by_implementation = tushare_client(replay_server).dividend(imp_ann_date="20240711")
    assert by_implementation[["ann_date", "div_proc"]].values.tolist() == [["20240430", "实施"]]


def test_replay_dividend_visibility(replay_server: RunningServer) -> None:
    replay_server.set_now("2025-03-30T19:59")
    try:
        frame = tushare_client(replay_server).dividend(ts_code="600000.SH")
    finally:
        replay_server.set_now(NOW)
    assert frame["ann_date"].tolist() == ["20240820", "20240430", "20240430", "20240430"]


@pytest.mark.parametrize(
    ("now", "stages"),
    [
        ("2024-05-01T19:59", []),
        ("2024-05-01T20:00", ["预案", "股东大会通过"]),
        ("2024-07-12T19:59", ["预案", "股东大会通过"]),
        ("2024-07-12T20:00", ["预案", "股东大会通过", "实施"]),
    ],
)
def test_replay_implementation_visibility(
    replay_server: RunningServer, now: str, stages: list[str]
) -> None:
    replay_server.set_now(now)
    try:
        frame = tushare_client(replay_server).dividend(ann_date="20240430")
    finally:
        replay_server.set_now(NOW)
    assert frame["div_proc"].tolist() == stages


def test_replay_financial_tables() -> None:
    source = ReplaySource.load(REALDATA)
    assert len(source.table("income")) == 1
    assert len(source.table("dividend")) == 5
    assert source.table("disclosure_date").empty
    rows = source.event_rows("disclosure_date", EventQuery({}), VISIBLE)
    assert list(rows.columns) == DATASETS["disclosure_date"].column_names


# Speed on the benchmark's market size


def test_cross_sections_fast_on_large_market() -> None:
    market = SimMarket(symbols=5400, seed=0)
    market.event_rows("disclosure_date", EventQuery({"actual_date": "20260430"}), VISIBLE)
    market.event_rows("dividend", EventQuery({"ann_date": "20260615"}), VISIBLE)
    timings = []
    for api, column, day in (
        ("disclosure_date", "actual_date", "20250429"),
        ("dividend", "ann_date", "20250612"),
        ("dividend", "imp_ann_date", "20250612"),
    ):
        started = time.perf_counter()
        frame = market.event_rows(api, EventQuery({column: day}), VISIBLE)
        timings.append(time.perf_counter() - started)
        assert len(frame) > 10, api
        assert (frame[column] == day).all()
    assert max(timings) < 1.0, timings
    assert np.all(np.isfinite(timings))
