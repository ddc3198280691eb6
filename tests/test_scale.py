"""Whole-market planning and compaction: call counts near the bound, few files, atomic merges."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import Lake

from tslake.compaction import recover, remove_replaced
from tslake.coverage import read_parts
from tslake.planner import calls_per_unit, pack, plan_dataset
from tslake.registry import ADJ_FACTOR, DAILY, DAILY_BASIC
from tslake.runlock import remove_stale_temporaries
from tslake.server import SimMarket
from tslake.universe import FAR_FUTURE, Universe

WHOLE_MARKET = 5400


@pytest.fixture(scope="module")
def whole_market() -> Universe:
    market = SimMarket(symbols=WHOLE_MARKET, seed=20261204)
    basics = market.stock_basic(None).sort_values("ts_code")
    calendar = market.trade_cal()
    days = np.array(sorted(calendar.loc[calendar["is_open"] == 1, "cal_date"]), dtype=object)
    return Universe(
        open_days=days,
        codes=basics["ts_code"].to_numpy(dtype=object),
        list_dates=basics["list_date"].fillna(days[0]).to_numpy(dtype=object),
        delist_dates=basics["delist_date"].fillna(FAR_FUTURE).to_numpy(dtype=object),
    )


@pytest.mark.parametrize("dataset", [DAILY, ADJ_FACTOR, DAILY_BASIC], ids=lambda d: d.name)
def test_cold_backfill_near_lower_bound(whole_market, dataset):
    plan, market, symbol = plan_dataset(
        dataset, whole_market, [], start="19900101", end="20261204", cap=6000
    )
    calls = len(market) + len(symbol)
    assert plan.missing_pairs > 15_000_000
    assert calls <= 1.05 * plan.lower_bound, (calls, plan.lower_bound)
    assert all(call.rows <= 5999 for call in market + symbol)


def test_cold_backfill_job_budget(whole_market):
    plans = []
    for dataset in (DAILY, ADJ_FACTOR, DAILY_BASIC):
        plans.append(
            plan_dataset(dataset, whole_market, [], start="19900101", end="20261204", cap=6000)
        )
    total = sum(len(market) + len(symbol) for _, market, symbol in plans)
    per_unit = calls_per_unit(total, configured=40, max_jobs=150)
    units = 0
    for plan, market, symbol in plans:
        pack(plan, market, symbol, per_unit)
        units += len(plan.units)
    # Units plus reference, plan, compaction, catalog and the final target.
    assert units + 5 <= 1000


def test_daily_update_one_call_per_dataset(whole_market):
    from tslake.parts import PartInfo, Segment

    covered = PartInfo(
        path=__import__("pathlib").Path("p.parquet"),
        dataset="x",
        scope="market",
        segments=(Segment(None, "19900101", "20261203"),),
        rows=0,
        fetched_at="",
        as_of=None,
        size=0,
    )
    for dataset in (DAILY, ADJ_FACTOR, DAILY_BASIC):
        plan, market, symbol = plan_dataset(
            dataset, whole_market, [covered], start="19900101", end="20261204", cap=6000
        )
        assert symbol == []
        assert [call.params for call in market] == [{"trade_date": "20261204"}]


@pytest.fixture(scope="module")
def compacted(tmp_path_factory) -> Lake:
    lake = Lake(
        tmp_path_factory.mktemp("compact"),
        start_date="20200101",
        now="2024-06-14T20:00",
        sim={"symbols": 120, "seed": 31},
    )
    lake.snakemake()
    for day in ("17", "18", "19", "20", "21"):
        lake.snakemake(now=f"2024-06-{day}T20:00")
    return lake


def test_compacted_layout(compacted):
    for name in ("daily", "adj_factor", "daily_basic"):
        parts = read_parts(compacted.data, name)
        periods = sorted(part.notes.get("period", "") for part in parts)
        assert periods == [
            "2020",
            "2021",
            "2022",
            "2023",
            "202401",
            "202402",
            "202403",
            "202404",
            "202405",
            "202406",
        ]
        for part in parts:
            metadata = pq.read_metadata(part.path)
            assert all(
                metadata.row_group(i).num_rows <= 65536 for i in range(metadata.num_row_groups)
            )
            frame = pq.read_table(part.path, columns=["ts_code", "trade_date"]).to_pandas()
            ordered = frame.sort_values(["ts_code", "trade_date"]).reset_index(drop=True)
            pd.testing.assert_frame_equal(frame, ordered)
    assert compacted.query("SELECT max(trade_date) AS d FROM daily")["d"][0] == "20240621"


def test_deleted_period_file_refetched(compacted, tmp_path):
    lake = Lake.__new__(Lake)
    lake.folder = tmp_path / "period"
    shutil.copytree(compacted.folder, lake.folder)
    lake.config = compacted.config
    before = lake.query("SELECT * FROM adj_factor ORDER BY ts_code, trade_date")
    victim = next(
        part for part in read_parts(lake.data, "adj_factor") if part.notes.get("period") == "2022"
    )
    held = victim.rows
    victim.path.unlink()
    count = len(lake.calls())
    lake.snakemake(now="2024-06-21T20:00")
    new_calls = [call for call in lake.calls()[count:] if call["api"] == "adj_factor"]
    assert sum(call["rows"] for call in new_calls) == held
    # The cheaper of one call per day (about 240) and one per symbol (about 120) is chosen.
    assert len(new_calls) <= 130
    after = lake.query("SELECT * FROM adj_factor ORDER BY ts_code, trade_date")
    pd.testing.assert_frame_equal(after, before)


def live_rows(data_dir, name: str) -> pd.DataFrame:
    frames = [pq.read_table(part.path).to_pandas() for part in read_parts(data_dir, name)]
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(["ts_code", "trade_date"]).reset_index(drop=True)


def test_compaction_killed_loses_nothing(compacted, tmp_path):
    random.seed(7)
    folder = tmp_path / "killed"
    shutil.copytree(compacted.folder, folder)
    data = folder / "data"
    # Turn the compacted files back into "small" parts by pretending a year has ended:
    # compacting as of 2025 merges the 2024 month files into a year file.
    want = live_rows(data, "daily")
    script = (
        "import sys; from pathlib import Path; from tslake.compaction import compact_dataset;"
        "from tslake.registry import DAILY; compact_dataset(Path(sys.argv[1]), DAILY, '20250105')"
    )
    finished = False
    for _ in range(12):
        process = subprocess.Popen(
            [sys.executable, "-c", script, str(data)], start_new_session=True
        )
        time.sleep(random.uniform(0.05, 1.5))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        finished = process.wait() == 0 or finished
        recover(data)
        remove_stale_temporaries(data)
        got = live_rows(data, "daily")
        pd.testing.assert_frame_equal(got, want)
        assert not got.duplicated(subset=["ts_code", "trade_date"]).any()
        remove_replaced(data)
        pd.testing.assert_frame_equal(live_rows(data, "daily"), want)
    periods = sorted(part.notes.get("period", "") for part in read_parts(data, "daily"))
    if finished:
        assert "2024" in periods
