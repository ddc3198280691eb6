"""Unit tests of announcement planning: as-of coverage, statement re-asks, event day choices."""

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from tslake.announcements import (
    announcement_end,
    index_days,
    pack_groups,
    plan_event,
    plan_statement,
)
from tslake.clock import SHANGHAI
from tslake.coverage import asof_dates, next_day
from tslake.parts import PartInfo, Segment, conform, read_part_info, write_part
from tslake.registry import DIVIDEND, FINA_INDICATOR, INCOME
from tslake.universe import FAR_FUTURE, Universe

CODES = ("000001.SZ", "000002.SZ", "600000.SH")


def make_universe(delisted: dict[str, str] | None = None) -> Universe:
    delisted = delisted or {}
    return Universe(
        open_days=np.array(["20240102"], dtype=object),
        codes=np.array(CODES, dtype=object),
        list_dates=np.array(["19910403", "19910129", "19991110"], dtype=object),
        delist_dates=np.array([delisted.get(code, FAR_FUTURE) for code in CODES], dtype=object),
    )


def part(segments: list[Segment], notes: dict | None = None) -> PartInfo:
    return PartInfo(
        Path("p.parquet"), "income", "symbols", tuple(segments), 0, "", None, 0, notes=notes or {}
    )


def test_announcement_end_waits_a_day():
    evening = datetime(2024, 4, 30, 21, 0, tzinfo=SHANGHAI)
    morning = datetime(2024, 4, 30, 9, 0, tzinfo=SHANGHAI)
    assert announcement_end(evening, INCOME.publish_time, 1) == "20240429"
    assert announcement_end(morning, INCOME.publish_time, 1) == "20240428"


def test_asof_merges_market_and_symbol_spans():
    parts = [
        part([Segment(("000001.SZ",), "19900101", "20240415")]),
        part([Segment(None, "20240416", "20240416"), Segment(None, "20240418", "20240420")]),
        part([Segment(("000002.SZ",), "19900101", "20240410")]),
    ]
    asof = asof_dates(parts, CODES, "19900101")
    assert asof["000001.SZ"] == "20240416"
    assert asof["000002.SZ"] == "20240410"
    assert "600000.SH" not in asof


def test_cold_statement_asks_every_type_in_full():
    plan, groups = plan_statement(
        INCOME,
        make_universe(),
        [],
        start="19900101",
        end="20240429",
        symbols=None,
        announcers={},
        index_end=None,
        correction_days=3,
        report_types=("1", "2"),
    )
    assert len(groups) == 3
    assert plan.lower_bound == 6
    first = groups[0]
    assert [call.params["report_type"] for call in first] == ["1", "2"]
    assert first[0].params["start_date"] == "19900101"
    assert first[0].segment == Segment(("000001.SZ",), "19900101", "20240429")


def test_statement_asks_only_announcers():
    covered = [
        part([Segment(CODES, "19900101", "20240420")], notes={"report_types": ["1"]}),
    ]
    plan, groups = plan_statement(
        INCOME,
        make_universe(),
        covered,
        start="19900101",
        end="20240429",
        symbols=None,
        announcers={"000002.SZ": ["20240425"]},
        index_end="20240429",
        correction_days=0,
        report_types=("1",),
    )
    assert [call.params for calls in groups for call in calls] == [
        {
            "ts_code": "000002.SZ",
            "start_date": "20240421",
            "end_date": "20240429",
            "report_type": "1",
        }
    ]
    assert groups[0][0].segment == Segment(("000002.SZ",), "20240421", "20240429")
    assert plan.symbols == 1


def test_correction_window_asks_again():
    covered = [part([Segment(CODES, "19900101", "20240420")], notes={"report_types": ["1"]})]
    arguments = dict(
        start="19900101",
        end="20240429",
        symbols=None,
        announcers={"000001.SZ": ["20240419"]},
        index_end="20240429",
        report_types=("1",),
    )
    _, without = plan_statement(INCOME, make_universe(), covered, correction_days=0, **arguments)
    _, within = plan_statement(INCOME, make_universe(), covered, correction_days=3, **arguments)
    assert without == []
    assert [calls[0].params["ts_code"] for calls in within] == ["000001.SZ"]


def test_new_report_type_refetches_in_full():
    covered = [part([Segment(CODES, "19900101", "20240429")], notes={"report_types": ["1"]})]
    _, groups = plan_statement(
        INCOME,
        make_universe(),
        covered,
        start="19900101",
        end="20240429",
        symbols=None,
        announcers={},
        index_end="20240429",
        correction_days=0,
        report_types=("1", "2"),
    )
    assert len(groups) == 3
    assert all(calls[0].params["start_date"] == "19900101" for calls in groups)


def test_lookback_widens_request_not_coverage():
    covered = [part([Segment(CODES, "19900101", "20240420")])]
    _, groups = plan_statement(
        FINA_INDICATOR,
        make_universe(),
        covered,
        start="19900101",
        end="20240429",
        symbols=("600000.SH",),
        announcers={"600000.SH": ["20240428"]},
        index_end="20240429",
        correction_days=0,
        report_types=("1",),
    )
    (call,) = groups[0]
    assert "report_type" not in call.params
    assert call.params["start_date"] == "20230318"
    assert call.segment.start == "20240421"


def test_delisted_symbol_is_done_at_delisting():
    covered = [part([Segment(CODES, "19900101", "20240420")])]
    _, groups = plan_statement(
        FINA_INDICATOR,
        make_universe({"000001.SZ": "20240301"}),
        covered,
        start="19900101",
        end="20240429",
        symbols=None,
        announcers={"000001.SZ": ["20240425"]},
        index_end="20240429",
        correction_days=0,
        report_types=("1",),
    )
    assert groups == []


def dividend_part(folder: Path, rows: list[tuple[str, str, str, str]]) -> PartInfo:
    """Write a real dividend part covering every symbol to 20240427, holding `rows`."""
    frame = pd.DataFrame(rows, columns=["ts_code", "end_date", "ann_date", "div_proc"])
    path = folder / "dividend.parquet"
    write_part(
        path,
        DIVIDEND,
        conform(frame, DIVIDEND),
        scope="symbols",
        segments=[Segment(CODES, "19900101", "20240427")],
        fetched_at="2024-04-28T21:00:00",
        calls=3,
        notes={},
    )
    return read_part_info(path)


def test_event_cold_is_per_symbol_then_days(tmp_path):
    universe = make_universe()
    plan, groups = plan_event(
        DIVIDEND, universe, [], start="19900101", end="20240429", symbols=None
    )
    assert [calls[0].params for calls in groups] == [{"ts_code": code} for code in CODES]
    covered = [dividend_part(tmp_path, [("000001.SZ", "20231231", "20240301", "实施")])]
    plan, groups = plan_event(
        DIVIDEND, universe, covered, start="19900101", end="20240428", symbols=None
    )
    assert [[call.params for call in calls] for calls in groups] == [
        [{"ann_date": "20240428"}, {"imp_ann_date": "20240428"}],
    ]
    assert plan.lower_bound == 2
    # Two new days cost four calls, more than asking the three symbols one by one.
    _, groups = plan_event(
        DIVIDEND, universe, covered, start="19900101", end="20240429", symbols=None
    )
    assert [calls[0].params for calls in groups] == [{"ts_code": code} for code in CODES]


def test_event_revisits_open_plans(tmp_path):
    rows = [
        ("000001.SZ", "20231231", "20240301", "预案"),
        ("000001.SZ", "20231231", "20240301", "实施"),
        ("000002.SZ", "20231231", "20240320", "预案"),
        ("000002.SZ", "20231231", "20240320", "股东大会通过"),
        ("600000.SH", "20220630", "20220820", "预案"),
    ]
    covered = [dividend_part(tmp_path, rows)]
    _, groups = plan_event(
        DIVIDEND, make_universe(), covered, start="19900101", end="20240428", symbols=None
    )
    assert [[call.params for call in calls] for calls in groups] == [
        [{"ann_date": "20240428"}, {"imp_ann_date": "20240428"}],
        [{"ann_date": "20240320"}],
    ]


def test_index_days_start_before_earliest_asof():
    index = [part([Segment(None, "20240419", "20240420")])]
    days = index_days(["20240420", "20240425"], index, 3, "20240422")
    assert days == ["20240418", "20240421", "20240422"]


def test_pack_keeps_symbol_calls_together():
    _, groups = plan_statement(
        INCOME,
        make_universe(),
        [],
        start="19900101",
        end="20240429",
        symbols=None,
        announcers={},
        index_end=None,
        correction_days=3,
        report_types=("1", "2", "4"),
    )
    units = pack_groups("income", groups, 2)
    assert [len(unit.calls) for unit in units] == [3, 3, 3]
    assert len({unit.unit_id for unit in units}) == 3


def test_hole_is_filled_without_announcement():
    covered = [
        part([Segment(CODES, "19900101", "20091231")], notes={"report_types": ["1"]}),
        part([Segment(CODES, "20110101", "20240429")], notes={"report_types": ["1"]}),
    ]
    _, groups = plan_statement(
        INCOME,
        make_universe(),
        covered,
        start="19900101",
        end="20240429",
        symbols=None,
        announcers={},
        index_end="20240429",
        correction_days=0,
        report_types=("1",),
    )
    assert [calls[0].segment for calls in groups] == [
        Segment((code,), "20100101", "20101231") for code in CODES
    ]


def test_long_history_split_under_cap():
    _, groups = plan_statement(
        INCOME,
        make_universe(),
        [],
        start="19900101",
        end="20240429",
        symbols=("000001.SZ",),
        announcers={},
        index_end=None,
        correction_days=0,
        report_types=("1",),
        cap=50,
    )
    (calls,) = groups
    assert len(calls) == 4
    assert calls[0].params["start_date"] == "19900101"
    assert calls[-1].params["end_date"] == "20240429"
    for earlier, later in zip(calls, calls[1:], strict=False):
        assert next_day(earlier.params["end_date"]) == later.params["start_date"]
    assert {call.segment for call in calls} == {Segment(("000001.SZ",), "19900101", "20240429")}
