"""Unit tests of the planner on small hand-made universes and real part metadata."""

from pathlib import Path

import numpy as np
import pandas as pd

from tslake.parts import PartInfo, Segment, conform, read_part_info, write_part
from tslake.planner import calls_per_unit, pack, plan_dataset
from tslake.registry import ADJ_FACTOR, DAILY
from tslake.universe import FAR_FUTURE, Universe

DAYS = [f"202401{day:02d}" for day in range(2, 31) if day not in (6, 7, 13, 14, 20, 21, 27, 28)]


def make_universe(spans: dict[str, tuple[str, str]]) -> Universe:
    codes = sorted(spans)
    return Universe(
        open_days=np.array(DAYS, dtype=object),
        codes=np.array(codes, dtype=object),
        list_dates=np.array([spans[c][0] for c in codes], dtype=object),
        delist_dates=np.array([spans[c][1] for c in codes], dtype=object),
    )


def market_part(start: str, end: str) -> PartInfo:
    return PartInfo(
        Path(f"m{start}.parquet"), "daily", "market", (Segment(None, start, end),), 0, "", None, 0
    )


def symbol_part(codes: tuple[str, ...], start: str, end: str) -> PartInfo:
    return PartInfo(
        Path(f"s{start}.parquet"), "daily", "symbols", (Segment(codes, start, end),), 0, "", None, 0
    )


def all_listed(count: int) -> dict[str, tuple[str, str]]:
    return {f"{600000 + i:06d}.SH": ("19900101", FAR_FUTURE) for i in range(count)}


def test_cold_multi_code_uses_code_lists():
    universe = make_universe(all_listed(10))
    plan, market, symbol = plan_dataset(DAILY, universe, [], start=DAYS[0], end=DAYS[-1], cap=100)
    assert plan.missing_pairs == 10 * len(DAYS)
    assert market == []
    # 210 rows at 99 per call: three calls, the lower bound.
    assert len(symbol) == plan.lower_bound == 3
    assert sum(call.rows for call in symbol) == plan.missing_pairs


def test_one_new_day_is_one_market_call():
    universe = make_universe(all_listed(50))
    parts = [market_part(DAYS[0], DAYS[-2])]
    plan, market, symbol = plan_dataset(
        ADJ_FACTOR, universe, parts, start=DAYS[0], end=DAYS[-1], cap=6000
    )
    assert symbol == []
    assert [call.params for call in market] == [{"trade_date": DAYS[-1]}]


def test_hole_in_middle_is_found():
    universe = make_universe(all_listed(3))
    parts = [market_part(DAYS[0], DAYS[4]), market_part(DAYS[8], DAYS[-1])]
    plan, market, symbol = plan_dataset(
        DAILY, universe, parts, start=DAYS[0], end=DAYS[-1], cap=6000
    )
    assert plan.first_missing == DAYS[5]
    assert plan.last_missing == DAYS[7]
    covered = {call.segment.start for call in market} | {call.segment.start for call in symbol}
    assert covered
    assert plan.missing_pairs == 9


def test_deleted_symbol_part_refetched_by_symbol():
    universe = make_universe(all_listed(40))
    batch = tuple(sorted(universe.codes[:10]))
    rest = tuple(sorted(universe.codes[10:]))
    parts = [symbol_part(rest, DAYS[0], DAYS[-1])]
    plan, market, symbol = plan_dataset(
        ADJ_FACTOR, universe, parts, start=DAYS[0], end=DAYS[-1], cap=6000
    )
    assert market == []
    assert sorted(call.params["ts_code"] for call in symbol) == list(batch)
    assert all(call.params["start_date"] == DAYS[0] for call in symbol)


def test_delisted_symbol_not_asked_after_delisting():
    spans = all_listed(3)
    spans["000001.SZ"] = ("19900101", DAYS[5])
    universe = make_universe(spans)
    # One code per call: the request ends at the delisting date.
    _, _, single = plan_dataset(ADJ_FACTOR, universe, [], start=DAYS[0], end=DAYS[-1], cap=6000)
    delisted_calls = [call for call in single if call.params["ts_code"] == "000001.SZ"]
    assert delisted_calls
    assert all(call.params["end_date"] <= DAYS[5] for call in delisted_calls)
    # Code lists: no call covers only days after the delisting.
    _, _, lists = plan_dataset(DAILY, universe, [], start=DAYS[0], end=DAYS[-1], cap=6000)
    for call in lists:
        if "000001.SZ" in call.params["ts_code"].split(","):
            assert call.params["start_date"] <= DAYS[5]


def test_code_lists_near_lower_bound():
    spans = {f"{600000 + i:06d}.SH": (DAYS[i % len(DAYS)], FAR_FUTURE) for i in range(60)}
    universe = make_universe(spans)
    plan, market, symbol = plan_dataset(DAILY, universe, [], start=DAYS[0], end=DAYS[-1], cap=40)
    assert market == []
    assert len(symbol) <= plan.lower_bound * 1.05 + 1
    assert all(call.rows <= 39 for call in symbol)


def test_listing_mid_range_needs_only_listed_days():
    spans = all_listed(2)
    spans["300001.SZ"] = (DAYS[10], FAR_FUTURE)
    universe = make_universe(spans)
    plan, _, _ = plan_dataset(DAILY, universe, [], start=DAYS[0], end=DAYS[-1], cap=6000)
    assert plan.missing_pairs == 2 * len(DAYS) + len(DAYS) - 10


def test_long_history_split_under_cap():
    universe = make_universe(all_listed(1))
    plan, _, symbol = plan_dataset(ADJ_FACTOR, universe, [], start=DAYS[0], end=DAYS[-1], cap=8)
    assert all(call.rows <= 7 for call in symbol)
    assert sum(call.rows for call in symbol) == len(DAYS)


def test_units_respect_max_jobs():
    universe = make_universe(all_listed(30))
    plan, market, symbol = plan_dataset(
        ADJ_FACTOR, universe, [], start=DAYS[0], end=DAYS[-1], cap=6000
    )
    per_unit = calls_per_unit(len(market) + len(symbol), configured=2, max_jobs=5)
    pack(plan, market, symbol, per_unit)
    assert len(plan.units) <= 5
    assert sum(len(unit.calls) for unit in plan.units) == len(market) + len(symbol)
    # 21 market days cost fewer calls than 30 single-code requests.
    assert len(market) == len(DAYS)


def test_part_roundtrip_keeps_coverage(tmp_path):
    frame = pd.DataFrame(
        {"ts_code": ["600000.SH"], "trade_date": ["20240102"], "adj_factor": ["1.5"]}
    )
    table = conform(frame, ADJ_FACTOR)
    path = tmp_path / "adj_factor" / "p.parquet"
    segment = Segment(("600000.SH",), "20240102", "20240105")
    write_part(
        path, ADJ_FACTOR, table, scope="symbols", segments=[segment], fetched_at="t", calls=1
    )
    info = read_part_info(path)
    assert info.segments == (segment,)
    assert info.rows == 1
    assert table.schema.field("adj_factor").type == "double"
