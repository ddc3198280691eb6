"""End-to-end runs of the workflow through the real `snakemake` command against the simulated market."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import Lake

from tslake.registry import DATASETS
from tslake.server.market import SimMarket

SYMBOLS = 300
SEED = 7
START = "20210104"
NOW = "2024-06-14T20:00"  # a Friday, after every publication time
NEXT_DAY = "20240617"  # the next trading day
DAILY = ("daily", "adj_factor", "daily_basic")


@pytest.fixture(scope="module")
def market() -> SimMarket:
    return SimMarket(symbols=SYMBOLS, seed=SEED)


@pytest.fixture(scope="module")
def cold(tmp_path_factory) -> tuple[Lake, object]:
    lake = Lake(
        tmp_path_factory.mktemp("cold"),
        start_date=START,
        now=NOW,
        sim={"symbols": SYMBOLS, "seed": SEED},
    )
    run = lake.snakemake()
    return lake, run


def expected(market: SimMarket, name: str, end: str) -> pd.DataFrame:
    frame = market.table(name)
    frame = frame[(frame["trade_date"] >= START) & (frame["trade_date"] <= end)]
    return frame.sort_values(list(DATASETS[name].key)).reset_index(drop=True)


def view(lake: Lake, name: str) -> pd.DataFrame:
    frame = lake.query(f"SELECT * FROM {name}")
    return frame.sort_values(list(DATASETS[name].key)).reset_index(drop=True)


def data_calls(calls: list[dict]) -> list[dict]:
    return [call for call in calls if call["api"] in DAILY]


def test_cold_run_equals_server(cold, market):
    lake, _ = cold
    for name in DAILY:
        got = view(lake, name)
        want = expected(market, name, "20240614")
        assert len(got) > 50_000, name
        pd.testing.assert_frame_equal(got, want[got.columns.tolist()], check_dtype=False)
        duplicates = got.duplicated(subset=list(DATASETS[name].key)).sum()
        assert duplicates == 0, name


def test_cold_run_column_types(cold):
    lake, _ = cold
    for name in DAILY + ("stock_basic", "trade_cal"):
        schema = DATASETS[name].arrow_schema()
        for path in sorted((lake.data / name).glob("*.parquet")):
            stored = pq.read_schema(path).remove_metadata()
            assert stored.equals(schema), path


def test_cold_run_reference_snapshots(cold, market):
    lake, _ = cold
    basics = lake.query("SELECT ts_code, list_status FROM stock_basic")
    assert set(basics["list_status"]) == {"L", "D", "P"}
    calendar = lake.query(
        "SELECT cal_date, is_open FROM trade_cal WHERE cal_date BETWEEN '20240101' AND '20240131'"
    )
    assert len(calendar) == 31
    assert calendar["is_open"].sum() == 22


def test_cold_run_job_budget(cold):
    _, run = cold
    assert 0 < run.jobs <= 200


def test_second_run_calls_nothing(cold, tmp_path):
    lake = cold[0].copy(tmp_path / "again")
    before = len(lake.calls())
    run = lake.snakemake()
    assert len(lake.calls()) == before
    assert "没有缺失的数据" in run.output or "无缺失数据" in run.output


def test_one_day_update(cold, market, tmp_path):
    lake = cold[0].copy(tmp_path / "update")
    before = len(lake.calls())
    run = lake.snakemake(now="2024-06-17T20:00")
    new_calls = lake.calls()[before:]
    counts = Counter(call["api"] for call in data_calls(new_calls))
    assert counts == {"daily": 1, "adj_factor": 1, "daily_basic": 1}
    assert all(call["params"].get("trade_date") == NEXT_DAY for call in data_calls(new_calls))
    assert run.jobs <= 15
    for name in DAILY:
        got = view(lake, name)
        want = expected(market, name, NEXT_DAY)
        pd.testing.assert_frame_equal(got, want[got.columns.tolist()], check_dtype=False)


@pytest.mark.parametrize("dataset", DAILY)
def test_deleted_part_refetched_exactly(cold, tmp_path, dataset):
    lake = cold[0].copy(tmp_path / f"delete-{dataset}")
    before_rows = view(lake, dataset)
    parts = sorted((lake.data / dataset).glob("*.parquet"))
    victim = parts[len(parts) // 2]
    held = pq.read_table(victim).num_rows
    victim.unlink()
    before = len(lake.calls())
    lake.snakemake()
    new_calls = data_calls(lake.calls()[before:])
    assert {call["api"] for call in new_calls} == {dataset}
    assert sum(call["rows"] for call in new_calls) == held
    pd.testing.assert_frame_equal(view(lake, dataset), before_rows)
    for other in set(DAILY) - {dataset}:
        assert len(view(lake, other)) > 0


def test_listing_delisting_suspension(cold, market, tmp_path):
    lake, _ = cold
    basics = market.table("stock_basic")
    daily = view(lake, "daily")
    listed_mid = basics[(basics["list_date"] > "20220101") & (basics["list_date"] < "20240101")]
    assert len(listed_mid) > 0
    for code, list_date in listed_mid[["ts_code", "list_date"]].itertuples(index=False):
        rows = daily[daily["ts_code"] == code]
        assert len(rows) > 0, code
        assert rows["trade_date"].min() >= list_date
    delisted = basics[(basics["delist_date"].notna()) & (basics["delist_date"] > START)]
    delisted = delisted[delisted["delist_date"] < "20240614"]
    calls = data_calls(lake.calls())
    for code, delist_date in delisted[["ts_code", "delist_date"]].itertuples(index=False):
        for call in calls:
            codes = (call["params"].get("ts_code") or "").split(",")
            if code not in codes:
                continue
            # No request is about the days after the delisting only.
            assert call["params"]["start_date"] <= delist_date, (code, call)
            if codes == [code]:
                assert call["params"]["end_date"] <= delist_date, (code, call)
    # An update run makes no per-symbol request, so suspended stocks are not requested again.
    update = lake.copy(tmp_path / "suspended")
    before = len(update.calls())
    update.snakemake(now="2024-06-17T20:00")
    assert all("ts_code" not in call["params"] for call in data_calls(update.calls()[before:]))


def test_unpublished_day_not_covered(cold, tmp_path):
    lake = cold[0].copy(tmp_path / "morning")
    lake.snakemake(now="2024-06-17T10:00")
    assert lake.query("SELECT max(trade_date) AS d FROM daily")["d"][0] == "20240614"
    before = len(lake.calls())
    lake.snakemake(now="2024-06-17T17:30")
    counts = Counter(call["api"] for call in data_calls(lake.calls()[before:]))
    assert counts == {"daily": 1, "adj_factor": 1}
    assert lake.query("SELECT max(trade_date) AS d FROM daily")["d"][0] == NEXT_DAY
    assert lake.query("SELECT max(trade_date) AS d FROM daily_basic")["d"][0] == "20240614"


def test_demo_market_job_budget(lake_factory):
    lake = lake_factory("demo", now=NOW)
    run = lake.snakemake()
    assert 0 < run.jobs <= 200
    assert "本次运行" in run.stdout
    update = lake.snakemake(now="2024-06-17T20:00")
    assert 0 < update.jobs <= 15


def test_deleted_catalog_rebuilt_without_calls(cold, tmp_path):
    lake = cold[0].copy(tmp_path / "catalog")
    rows = len(view(lake, "daily"))
    (lake.data / "metadata.db").unlink()
    before = len(lake.calls())
    lake.snakemake()
    assert len(lake.calls()) == before
    assert len(view(lake, "daily")) == rows


def test_dry_run_lists_planned_units(cold, tmp_path):
    lake = cold[0].copy(tmp_path / "dry")
    plan = lake.snakemake("plan", now="2024-06-17T20:00")
    assert "数据更新计划" in plan.stdout
    assert "本次运行" not in plan.stdout
    dry = lake.snakemake("-n", now="2024-06-17T20:00")
    assert dry.output.count("fetch_unit") >= 3
    assert not list((lake.data / "daily").glob("m20240617*.parquet"))
