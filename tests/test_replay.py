"""Replay of real recorded Tushare data through the local server: the lake equals the recording."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import REALDATA

from tslake.registry import DATASETS
from tslake.server.replay import ReplaySource

NOW = "2026-01-05T20:00"
START = "20120101"
END = "20251231"  # the last trading day published at NOW


def recorded_codes(source: ReplaySource) -> list[str]:
    codes: set[str] = set()
    for name in ("daily", "adj_factor", "daily_basic"):
        codes |= set(source.recorded(name)["ts_code"])
    return sorted(codes)


@pytest.fixture(scope="module")
def source() -> ReplaySource:
    if not REALDATA.is_dir():
        pytest.fail(
            f"recorded data not found at {REALDATA}: ../shared must sit next to the repository"
        )
    return ReplaySource.load(REALDATA)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, source):
    from conftest import Lake

    group = {"datasets": ["daily", "adj_factor", "daily_basic"], "symbols": recorded_codes(source)}
    lake = Lake(
        tmp_path_factory.mktemp("replay"),
        source="replay",
        replay_dir=str(REALDATA),
        start_date=START,
        now=NOW,
        group="recorded",
        groups={"recorded": group},
    )
    lake.snakemake()
    return lake


def sorted_frame(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    return frame.sort_values(list(DATASETS[name].key)).reset_index(drop=True)


@pytest.mark.parametrize("name", ["daily", "adj_factor", "daily_basic"])
def test_replay_daily_datasets_equal_recording(replayed, source, name):
    want = source.recorded(name)
    want = want[(want["trade_date"] >= START) & (want["trade_date"] <= END)]
    got = replayed.query(f"SELECT * FROM {name}")
    assert len(got) == len(want) > 0
    pd.testing.assert_frame_equal(
        sorted_frame(got, name), sorted_frame(want[got.columns.tolist()], name), check_dtype=False
    )


def test_replay_recorded_values_survive(replayed):
    moutai = replayed.query(
        "SELECT close FROM daily WHERE ts_code = '600519.SH' AND trade_date IN ('20120104', '20220701') ORDER BY trade_date"
    )
    assert moutai["close"].tolist() == [185.27, 2029.05]
    factors = replayed.query(
        "SELECT adj_factor FROM adj_factor WHERE ts_code = '000001.SZ' AND trade_date IN ('20180711', '20180712') ORDER BY trade_date"
    )
    assert factors["adj_factor"].tolist() == [106.309, 108.031]
    shares = replayed.query(
        "SELECT total_share FROM daily_basic WHERE ts_code = '600519.SH' ORDER BY trade_date DESC LIMIT 1"
    )
    assert shares["total_share"][0] == pytest.approx(125227.0215)


def test_replay_stock_basic_equals_recording(replayed, source):
    want = source.recorded("stock_basic")
    got = replayed.query("SELECT * FROM stock_basic")
    assert set(got["ts_code"]) == set(want["ts_code"])
    assert {"000001.SZ", "600000.SH", "600519.SH"} <= set(got["ts_code"])
    merged = got.merge(want, on="ts_code", suffixes=("", "_want"))
    for column in ("name", "list_date", "market"):
        assert (merged[column].fillna("") == merged[f"{column}_want"].fillna("")).all(), column


def test_replay_calendar_is_complete(replayed, source):
    calendar = replayed.query("SELECT cal_date, is_open, pretrade_date FROM trade_cal")
    recorded = source.recorded("trade_cal")
    open_days = set(calendar.loc[calendar["is_open"] == 1, "cal_date"])
    # Every recorded open day, and the derived 2012 calendar that the recording lacks.
    assert set(recorded.loc[recorded["is_open"] == 1, "cal_date"]) <= open_days
    assert "20120104" in open_days
    assert "20120101" not in open_days
    assert calendar["cal_date"].min() <= "19901219"
    day = calendar.set_index("cal_date").loc["20231009"]
    assert day["pretrade_date"] == "20230928"


def test_replay_suspension_gap_not_refetched(replayed):
    # The recording lacks adj_factor and daily_basic rows for most daily rows, so the
    # consistency check requests them again a bounded number of times, then stops.
    # daily itself, suspension gaps included, is never requested again.
    for _ in range(4):
        before = len(replayed.calls())
        replayed.snakemake()
        again = replayed.calls()[before:]
        assert all(call["api"] != "daily" for call in again)
    assert again == []
    gap = replayed.query(
        "SELECT count(*) AS n FROM daily WHERE ts_code = '600000.SH' AND trade_date > '20160215' AND trade_date < '20160311'"
    )
    assert gap["n"][0] == 0
