"""End-to-end runs with financial statements and dividends against the simulated market."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pandas as pd
import pytest
from conftest import Lake, tushare_client

from tslake.parts import read_part_info
from tslake.registry import DATASETS
from tslake.server import RunningServer, ServerConfig, SimMarket, start_server

SYMBOLS = 30
SEED = 23
START = "20180101"
NOW = "2024-04-10T21:00"
END = "20240409"  # announcements are final from 20:00 of the next day
LATER = "2024-04-25T21:00"
LATER_END = "20240424"
CORRECTION_DAYS = 3
STATEMENTS = ("income", "balancesheet", "fina_indicator")
DATASET_NAMES = (*STATEMENTS, "dividend")
GROUP = {"datasets": ["daily", "adj_factor", *DATASET_NAMES], "symbols": "all"}
BIG_CAPS = {name: 1_000_000 for name in (*DATASET_NAMES, "disclosure_date")}


@pytest.fixture(scope="module")
def market() -> SimMarket:
    return SimMarket(symbols=SYMBOLS, seed=SEED)


@pytest.fixture(scope="module")
def cold(tmp_path_factory) -> Lake:
    lake = Lake(
        tmp_path_factory.mktemp("financial"),
        start_date=START,
        now=NOW,
        group="fin",
        groups={"fin": GROUP},
        report_types=["1", "2"],
        correction_days=CORRECTION_DAYS,
        sim={"symbols": SYMBOLS, "seed": SEED},
    )
    lake.snakemake()
    return lake


class Server:
    """The simulated market at one clock, read through the real tushare client."""

    def __init__(self, running: RunningServer) -> None:
        self.pro = tushare_client(running)

    def per_symbol(self, name: str, codes: list[str], end: str) -> pd.DataFrame:
        frames = []
        for code in codes:
            if name in ("income", "balancesheet", "cashflow"):
                for report_type in ("1", "2"):
                    frames.append(
                        self.pro.query(
                            name,
                            ts_code=code,
                            start_date=START,
                            end_date=end,
                            report_type=report_type,
                        )
                    )
            elif name == "fina_indicator":
                frames.append(self.pro.query(name, ts_code=code, start_date=START, end_date=end))
            else:
                frames.append(self.pro.query(name, ts_code=code))
        frame = pd.concat([frame for frame in frames if len(frame)], ignore_index=True)
        if name == "dividend":
            # A symbol's whole dividend history is kept, also before the start date.
            return frame
        column = DATASETS[name].date_column
        return frame[(frame[column] >= START) & (frame[column] <= end)]

    def announcers(self, first: str, last: str) -> set[str]:
        codes: set[str] = set()
        day = date.fromisoformat(f"{first[:4]}-{first[4:6]}-{first[6:]}")
        stop = date.fromisoformat(f"{last[:4]}-{last[4:6]}-{last[6:]}")
        while day <= stop:
            frame = self.pro.query("disclosure_date", actual_date=day.strftime("%Y%m%d"))
            codes |= set(frame["ts_code"]) if len(frame) else set()
            day += timedelta(days=1)
        return codes


@pytest.fixture(scope="module")
def server_at(market) -> Iterator:
    started: list[RunningServer] = []

    def make(now: str) -> Server:
        running = start_server(ServerConfig(now=now, row_caps=BIG_CAPS), source=market)
        started.append(running)
        return Server(running)

    yield make
    for running in started:
        running.stop()


def normalized(frame: pd.DataFrame, name: str, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    columns = [column for column in DATASETS[name].column_names if column not in drop]
    key = [column for column in DATASETS[name].key if column not in drop]
    frame = frame[columns].sort_values(key).reset_index(drop=True)
    types = {column.name: column.type for column in DATASETS[name].columns}
    for column in columns:
        values = frame[column]
        if types[column] != "string":
            frame[column] = pd.to_numeric(values).astype("float64")
        else:
            frame[column] = values.astype(object).where(values.notna(), None)
    return frame


def codes_of(lake: Lake) -> list[str]:
    return lake.query("SELECT ts_code FROM stock_basic ORDER BY ts_code")["ts_code"].tolist()


def test_cold_run_equals_server(cold, server_at):
    server = server_at(NOW)
    codes = codes_of(cold)
    for name in DATASET_NAMES:
        got = cold.query(f"SELECT * FROM {name}")
        want = server.per_symbol(name, codes, END)
        assert len(got) > 100, name
        pd.testing.assert_frame_equal(
            normalized(got, name), normalized(want, name), check_dtype=False, obj=name
        )


def test_versions_are_kept(cold):
    versions = cold.query(
        "SELECT ts_code, end_date, report_type, count(*) AS n FROM income "
        "GROUP BY ALL HAVING count(*) > 1"
    )
    assert len(versions) > 0
    report_types = set(cold.query("SELECT DISTINCT report_type FROM income")["report_type"])
    assert report_types == {"1", "2"}


def test_second_run_calls_nothing(cold, tmp_path):
    lake = cold.copy(tmp_path / "again")
    before = len(lake.calls())
    lake.snakemake()
    assert len(lake.calls()) == before


def test_update_requests_only_announcers(cold, server_at, tmp_path):
    lake = cold.copy(tmp_path / "update")
    before = len(lake.calls())
    lake.snakemake(now=LATER)
    new_calls = lake.calls()[before:]
    server = server_at(LATER)
    window_start = (date(2024, 4, 9) - timedelta(days=CORRECTION_DAYS - 1)).strftime("%Y%m%d")
    expected = server.announcers(window_start, LATER_END)
    assert expected
    for name in STATEMENTS:
        requested = {call["params"]["ts_code"] for call in new_calls if call["api"] == name}
        assert requested == expected, name
    index_days = {
        call["params"]["actual_date"] for call in new_calls if call["api"] == "disclosure_date"
    }
    assert min(index_days) == window_start
    assert max(index_days) == LATER_END
    dividend_calls = [call["params"] for call in new_calls if call["api"] == "dividend"]
    day_params = [params for params in dividend_calls if "ts_code" not in params]
    assert {key for params in day_params for key in params} <= {"ann_date", "imp_ann_date"}
    assert len(dividend_calls) <= SYMBOLS
    codes = codes_of(lake)
    for name in DATASET_NAMES:
        got = lake.query(f"SELECT * FROM {name}")
        want = server.per_symbol(name, codes, LATER_END)
        # update_flag is stored as fetched: an earlier version keeps the 1 it had then.
        pd.testing.assert_frame_equal(
            normalized(got, name, ("update_flag",)),
            normalized(want, name, ("update_flag",)),
            check_dtype=False,
            obj=name,
        )


def test_restatement_point_in_time(cold, tmp_path):
    lake = cold.copy(tmp_path / "asof")
    lake.snakemake(now=LATER)
    restated = lake.query(
        "SELECT ts_code, end_date, report_type, max(f_ann_date) AS day FROM income "
        "GROUP BY ALL HAVING count(*) > 1 ORDER BY day DESC LIMIT 1"
    ).iloc[0]
    day = restated["day"]
    before = (date.fromisoformat(f"{day[:4]}-{day[4:6]}-{day[6:]}") - timedelta(days=1)).strftime(
        "%Y%m%d"
    )
    where = (
        f"WHERE ts_code = '{restated['ts_code']}' AND end_date = '{restated['end_date']}' "
        f"AND report_type = '{restated['report_type']}'"
    )
    seen_before = lake.query(f"SELECT * FROM income_asof('{before}') {where}")
    seen_on = lake.query(f"SELECT * FROM income_asof('{day}') {where}")
    latest = lake.query(f"SELECT * FROM income_latest {where}")
    assert len(seen_before) == len(seen_on) == len(latest) == 1
    assert seen_before["f_ann_date"].iloc[0] < day
    assert seen_on["f_ann_date"].iloc[0] == day
    assert latest["f_ann_date"].iloc[0] == day
    assert seen_before["n_income"].iloc[0] != seen_on["n_income"].iloc[0] or (
        seen_before["total_revenue"].iloc[0] != seen_on["total_revenue"].iloc[0]
    )


def test_deleted_statement_file_refetched(cold, tmp_path):
    lake = cold.copy(tmp_path / "delete")
    before_rows = lake.query("SELECT * FROM income ORDER BY ALL")
    files = sorted((lake.data / "income").glob("*.parquet"))
    victim = files[len(files) // 2]
    segments = read_part_info(victim).segments
    first_day = min(segment.start for segment in segments)
    delisted = lake.query(f"SELECT ts_code FROM stock_basic WHERE delist_date < '{first_day}'")[
        "ts_code"
    ].tolist()
    # A symbol delisted before the lost span announces nothing in it.
    lost = {code for segment in segments for code in segment.symbols} - set(delisted)
    victim.unlink()
    before = len(lake.calls())
    lake.snakemake()
    new_calls = lake.calls()[before:]
    requested = {call["params"]["ts_code"] for call in new_calls if call["api"] == "income"}
    assert requested == lost
    assert {call["api"] for call in new_calls} <= {"income", "disclosure_date"}
    pd.testing.assert_frame_equal(lake.query("SELECT * FROM income ORDER BY ALL"), before_rows)


def test_plan_summary_lists_financial_datasets(cold, tmp_path):
    lake = cold.copy(tmp_path / "plan")
    run = lake.snakemake("plan", now=LATER)
    for name in DATASET_NAMES:
        assert name in run.output


def test_validate_reports_financial_datasets(cold, tmp_path):
    lake = cold.copy(tmp_path / "validate")
    run = lake.snakemake("validate")
    for name in DATASET_NAMES:
        assert f"{name}：" in run.output, name
    assert "实际公告日期早于公告日期" not in run.output
