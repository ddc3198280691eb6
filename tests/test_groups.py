"""Task groups that select symbols by exchange or from a code file, run with the real `snakemake`."""

from __future__ import annotations

import pytest
from conftest import Lake

from tslake.server.market import SimMarket

SYMBOLS = 40
SEED = 5
START = "20240102"
NOW = "2024-06-14T20:00"
SIM = {"symbols": SYMBOLS, "seed": SEED}


@pytest.fixture(scope="module")
def basics():
    return SimMarket(symbols=SYMBOLS, seed=SEED).table("stock_basic")


def group_lake(lake_factory, name: str, symbols) -> Lake:
    groups = {"picked": {"datasets": ["daily"], "symbols": symbols}}
    return lake_factory(name, start_date=START, now=NOW, sim=SIM, group="picked", groups=groups)


def daily_codes(lake: Lake) -> set[str]:
    return set(lake.query("SELECT DISTINCT ts_code FROM daily")["ts_code"])


def requested_codes(lake: Lake) -> set[str]:
    """Return every code named by a daily call; fail on a whole-market request."""
    codes: set[str] = set()
    for call in lake.calls():
        if call["api"] != "daily":
            continue
        assert "ts_code" in call["params"], call
        codes |= set(call["params"]["ts_code"].split(","))
    return codes


def traded_in_range(basics, mask) -> set[str]:
    """Return the codes under `mask` listed before the end and not delisted before the start."""
    rows = basics[mask]
    listed = rows["list_date"] <= "20240614"
    alive = rows["delist_date"].isna() | (rows["delist_date"] >= START)
    paused = rows["list_status"] == "P"
    return set(rows.loc[listed & alive & ~paused, "ts_code"])


def test_exchange_group_fetches_that_exchange(lake_factory, basics):
    lake = group_lake(lake_factory, "szse", {"exchanges": ["SZSE"]})
    lake.snakemake()
    szse = set(basics.loc[basics["exchange"] == "SZSE", "ts_code"])
    got = daily_codes(lake)
    assert got
    assert got <= szse
    assert got >= traded_in_range(basics, basics["exchange"] == "SZSE")
    assert requested_codes(lake) <= szse
    assert lake.query("SELECT count(*) AS n FROM daily WHERE ts_code NOT LIKE '%.SZ'")["n"][0] == 0


def test_file_group_fetches_listed_codes(lake_factory, basics):
    listed = basics[(basics["list_status"] == "L") & (basics["list_date"] <= "20240614")]
    wanted = sorted(listed.groupby("exchange")["ts_code"].first())
    lake = group_lake(lake_factory, "file", {"file": "watch/codes.txt"})
    codes_file = lake.folder / "watch" / "codes.txt"
    codes_file.parent.mkdir()
    lines = ["# codes to follow", ""] + [f"{code}  # kept" for code in wanted]
    codes_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    lake.snakemake()
    assert daily_codes(lake) == set(wanted)
    assert requested_codes(lake) == set(wanted)


def test_file_group_change_replans(lake_factory, basics):
    listed = sorted(basics.loc[basics["list_status"] == "L", "ts_code"])
    lake = group_lake(lake_factory, "change", {"file": "codes.txt"})
    codes_file = lake.folder / "codes.txt"
    codes_file.write_text(f"{listed[0]}\n", encoding="utf-8")
    lake.snakemake()
    assert daily_codes(lake) == {listed[0]}
    codes_file.write_text(f"{listed[0]}\n{listed[1]}\n", encoding="utf-8")
    lake.snakemake()
    assert daily_codes(lake) == {listed[0], listed[1]}


def test_file_group_invalid_code_stops(lake_factory):
    lake = group_lake(lake_factory, "badcode", {"file": "codes.txt"})
    (lake.folder / "codes.txt").write_text("600000.SH\n60000.SH\n", encoding="utf-8")
    run = lake.snakemake(check=False)
    assert run.returncode != 0
    assert "配置错误" in run.output
    assert "第 2 行" in run.output
    assert "'60000.SH'" in run.output
    assert lake.calls() == []
