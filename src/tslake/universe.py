"""The trading calendar and the listed symbols, read from the reference snapshots."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from tslake.parts import list_part_files, read_part_info

log = logging.getLogger(__name__)

CODE_PATTERN = re.compile(r"^\d{6}\.(SH|SZ|BJ)$")
# stock_basic `exchange` values by code suffix: Shanghai, Shenzhen and Beijing.
EXCHANGE_BY_SUFFIX = {"SH": "SSE", "SZ": "SZSE", "BJ": "BSE"}
EXCHANGES = tuple(EXCHANGE_BY_SUFFIX.values())
FAR_FUTURE = "99991231"


class ReferenceMissingError(RuntimeError):
    """The reference snapshot the planner needs is not on disk."""


def latest_snapshot(data_dir: Path, dataset: str) -> Path:
    """Return the newest snapshot part of `dataset` (by its `as_of` date, then name)."""
    files = list_part_files(data_dir, dataset)
    if not files:
        raise ReferenceMissingError(
            f"找不到 {dataset} 的快照：请先运行 snakemake（它会刷新参考数据），不要单独运行规划。"
        )
    return max(files, key=lambda path: (read_part_info(path).as_of or "", path.name))


@dataclass(frozen=True)
class Universe:
    """Open days (sorted YYYYMMDD) and every symbol with its listed span."""

    open_days: np.ndarray  # of str, sorted
    codes: np.ndarray  # of str, sorted
    list_dates: np.ndarray  # of str; earliest day the symbol can trade
    delist_dates: np.ndarray  # of str; FAR_FUTURE when still listed
    # True for list_status P (paused): listed, but without trading rows once paused.
    paused: np.ndarray | None = None
    # stock_basic `exchange` of each code (SSE, SZSE or BSE).
    exchanges: np.ndarray | None = None

    def codes_on(self, exchanges: tuple[str, ...]) -> tuple[str, ...]:
        """Return the codes listed on any of `exchanges`, sorted."""
        if self.exchanges is None:
            raise ValueError("the universe was loaded without the exchange column")
        mask = np.isin(self.exchanges, list(exchanges))
        return tuple(self.codes[mask].tolist())

    def days_between(self, start: str, end: str) -> np.ndarray:
        low = np.searchsorted(self.open_days, start, side="left")
        high = np.searchsorted(self.open_days, end, side="right")
        return self.open_days[low:high]

    def listed_codes(self, day: str) -> list[str]:
        mask = (self.list_dates <= day) & (self.delist_dates >= day)
        return self.codes[mask].tolist()

    def trading_codes(self, day: str) -> set[str]:
        """Return the codes expected to have rows on `day`: listed and not paused.

        stock_basic has no pause date, so a paused stock is left out on every day.
        The expectation is then slightly low for days before its pause.
        """
        mask = (self.list_dates <= day) & (self.delist_dates >= day)
        if self.paused is not None:
            mask &= ~self.paused
        return set(self.codes[mask].tolist())


def load_universe(data_dir: Path) -> Universe:
    """Read the newest `trade_cal` and `stock_basic` snapshots (only the columns needed)."""
    calendar = pq.read_table(
        latest_snapshot(data_dir, "trade_cal"), columns=["cal_date", "is_open"]
    ).to_pandas()
    open_days = np.array(sorted(calendar.loc[calendar["is_open"] == 1, "cal_date"]), dtype=object)
    basics = pq.read_table(
        latest_snapshot(data_dir, "stock_basic"),
        columns=["ts_code", "list_date", "delist_date", "list_status", "exchange"],
    ).to_pandas()
    valid = basics["ts_code"].map(lambda code: bool(CODE_PATTERN.match(str(code))))
    if not valid.all():
        rejected = basics.loc[~valid, "ts_code"].tolist()
        log.warning("stock_basic 中有 %d 个无效代码，已忽略：%s", len(rejected), rejected[:10])
        basics = basics[valid]
    basics = basics.sort_values("ts_code").drop_duplicates("ts_code", keep="last")
    first_day = open_days[0] if len(open_days) else "19000101"
    list_dates = basics["list_date"].fillna(first_day).astype(str).to_numpy(dtype=object)
    delist_dates = basics["delist_date"].fillna(FAR_FUTURE).astype(str).to_numpy(dtype=object)
    # Rows without an exchange take it from the code suffix, which always names it.
    suffixes = basics["ts_code"].astype(str).str.rsplit(".", n=1).str[-1]
    exchanges = basics["exchange"].fillna(suffixes.map(EXCHANGE_BY_SUFFIX))
    return Universe(
        open_days=open_days,
        codes=basics["ts_code"].astype(str).to_numpy(dtype=object),
        list_dates=list_dates,
        delist_dates=delist_dates,
        paused=(basics["list_status"] == "P").to_numpy(dtype=bool),
        exchanges=exchanges.astype(str).to_numpy(dtype=object),
    )
