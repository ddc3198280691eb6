"""End-to-end checks of the read-time adjusted-price views against `tushare.pro_bar`."""

from __future__ import annotations

import pandas as pd
import pytest
import tushare as ts
from conftest import Lake, tushare_client

from tslake.server import ServerConfig, SimMarket, start_server

SYMBOLS = 40
SEED = 17
START = "20220104"
NOW = "2024-06-14T20:00"
LATER = "2024-06-21T20:00"
PRICES = ["open", "high", "low", "close", "pre_close"]


@pytest.fixture(scope="module")
def market() -> SimMarket:
    return SimMarket(symbols=SYMBOLS, seed=SEED)


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Lake:
    lake = Lake(
        tmp_path_factory.mktemp("adjusted"),
        start_date=START,
        now=NOW,
        group="prices",
        groups={"prices": {"datasets": ["daily", "adj_factor"], "symbols": "all"}},
        sim={"symbols": SYMBOLS, "seed": SEED},
    )
    lake.snakemake()
    return lake


def symbols_with_steps(lake: Lake) -> list[str]:
    """Return codes whose factor changed inside the lake, so adjustment is not a no-op."""
    frame = lake.query(
        "SELECT ts_code FROM adj_factor GROUP BY ts_code HAVING count(DISTINCT adj_factor) > 1 "
        "ORDER BY ts_code LIMIT 3"
    )
    return frame["ts_code"].tolist()


def pro_bar(market: SimMarket, now: str, code: str, adj: str, end: str) -> pd.DataFrame:
    with start_server(ServerConfig(now=now), source=market) as server:
        pro = tushare_client(server)
        frame = ts.pro_bar(ts_code=code, adj=adj, start_date=START, end_date=end, api=pro)
    return frame.sort_values("trade_date").reset_index(drop=True)


def adjusted_view(lake: Lake, view: str, code: str) -> pd.DataFrame:
    return lake.query(
        f"SELECT * FROM {view} WHERE ts_code = '{code}' ORDER BY trade_date"
    ).reset_index(drop=True)


@pytest.mark.parametrize("adj", ["qfq", "hfq"])
def test_views_match_pro_bar(lake, market, adj):
    codes = symbols_with_steps(lake)
    assert codes
    for code in codes:
        want = pro_bar(market, NOW, code, adj, "20240614")
        got = adjusted_view(lake, f"daily_{adj}", code)
        assert got["trade_date"].tolist() == want["trade_date"].tolist()
        for column in PRICES:
            # pro_bar rounds adjusted prices to 2 decimals.
            difference = (got[column] - want[column]).abs().max()
            assert difference <= 0.005 + 1e-9, (code, column, difference)
        assert (got["vol"] == want["vol"]).all()


def test_update_keeps_raw_rows(lake, market, tmp_path):
    updated = lake.copy(tmp_path / "later")
    before = updated.query("SELECT * FROM daily ORDER BY ts_code, trade_date")
    updated.snakemake(now=LATER)
    after = updated.query(
        "SELECT * FROM daily WHERE trade_date <= '20240614' ORDER BY ts_code, trade_date"
    )
    pd.testing.assert_frame_equal(before, after)
    code = symbols_with_steps(updated)[0]
    want = pro_bar(market, LATER, code, "qfq", "20240621")
    got = adjusted_view(updated, "daily_qfq", code)
    assert (got["close"] - want["close"]).abs().max() <= 0.005 + 1e-9
