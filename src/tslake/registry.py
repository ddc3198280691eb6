"""The dataset registry: every dataset the lake can hold, described in one place.

Adding a dataset means adding one ``Dataset`` entry here, plus tests. The
planner, fetcher, part writer, catalog and local server read everything they
need from this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Literal

import pyarrow as pa

ColumnType = Literal["string", "float64", "int64"]
UpdateKind = Literal["snapshot", "daily"]

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "float64": pa.float64(),
    "int64": pa.int64(),
}


@dataclass(frozen=True)
class Column:
    """One declared column: Tushare's name, its storage type and a Chinese description."""

    name: str
    type: ColumnType
    description: str


@dataclass(frozen=True)
class Dataset:
    """Fetch, storage and planning settings of one Tushare API."""

    name: str
    api: str
    kind: UpdateKind
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str
    # Column holding the trading day (daily kind only).
    date_column: str | None = None
    # Parameter that selects one day of the whole market, if the API has one.
    cross_section_param: str | None = None
    # Whether ``ts_code`` accepts a comma-separated list of codes.
    multi_code: bool = False
    # Rows per call before the server silently drops the oldest ones.
    # The caps are not documented for every API; config ``row_caps`` overrides.
    row_cap: int = 6000
    # Time of day (Asia/Shanghai) after which a trading day's data is final.
    # Sources disagree; config ``publish_times`` overrides.
    publish_time: time | None = None
    # Fixed request parameters sent with every call.
    fixed_params: dict[str, str] = field(default_factory=dict)
    # Account points the API needs, as Tushare's documentation lists them (they can change).
    points: int = 2000
    # Rows exist for few (symbol, day) pairs, so the whole market over a date range fits
    # one request. The planner then requests date ranges, not symbols or single days.
    sparse: bool = False

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def arrow_schema(self) -> pa.Schema:
        """Return the storage schema that every part of this dataset uses."""
        return pa.schema([(column.name, ARROW_TYPES[column.type]) for column in self.columns])


def _columns(*specs: tuple[str, ColumnType, str]) -> tuple[Column, ...]:
    return tuple(Column(name, kind, text) for name, kind, text in specs)


STOCK_BASIC = Dataset(
    name="stock_basic",
    api="stock_basic",
    kind="snapshot",
    key=("ts_code",),
    description="股票列表（上市 L、退市 D、暂停上市 P）",
    columns=_columns(
        ("ts_code", "string", "TS 代码"),
        ("symbol", "string", "股票代码"),
        ("name", "string", "股票名称"),
        ("area", "string", "地域"),
        ("industry", "string", "所属行业"),
        ("fullname", "string", "股票全称"),
        ("enname", "string", "英文全称"),
        ("cnspell", "string", "拼音缩写"),
        ("market", "string", "市场类型"),
        ("exchange", "string", "交易所代码"),
        ("curr_type", "string", "交易货币"),
        ("list_status", "string", "上市状态 L/D/P"),
        ("list_date", "string", "上市日期"),
        ("delist_date", "string", "退市日期"),
        ("is_hs", "string", "是否沪深港通标的"),
        ("act_name", "string", "实控人名称"),
        ("act_ent_type", "string", "实控人企业性质"),
    ),
)

TRADE_CAL = Dataset(
    name="trade_cal",
    api="trade_cal",
    kind="snapshot",
    key=("exchange", "cal_date"),
    description="交易日历（上交所）",
    row_cap=10000,
    fixed_params={"exchange": "SSE"},
    columns=_columns(
        ("exchange", "string", "交易所"),
        ("cal_date", "string", "日历日期"),
        ("is_open", "int64", "是否交易 0/1"),
        ("pretrade_date", "string", "上一个交易日"),
    ),
)

DAILY = Dataset(
    name="daily",
    api="daily",
    kind="daily",
    key=("ts_code", "trade_date"),
    date_column="trade_date",
    cross_section_param="trade_date",
    multi_code=True,
    publish_time=time(17, 0),
    points=120,
    description="A 股日线行情（未复权）",
    columns=_columns(
        ("ts_code", "string", "股票代码"),
        ("trade_date", "string", "交易日期"),
        ("open", "float64", "开盘价"),
        ("high", "float64", "最高价"),
        ("low", "float64", "最低价"),
        ("close", "float64", "收盘价"),
        ("pre_close", "float64", "昨收价（除权价）"),
        ("change", "float64", "涨跌额"),
        ("pct_chg", "float64", "涨跌幅（%）"),
        ("vol", "float64", "成交量（手）"),
        ("amount", "float64", "成交额（千元）"),
    ),
)

ADJ_FACTOR = Dataset(
    name="adj_factor",
    api="adj_factor",
    kind="daily",
    key=("ts_code", "trade_date"),
    date_column="trade_date",
    cross_section_param="trade_date",
    # Most factors exist from 09:30, but some stocks only get theirs near 17:00.
    publish_time=time(17, 0),
    description="复权因子",
    columns=_columns(
        ("ts_code", "string", "股票代码"),
        ("trade_date", "string", "交易日期"),
        ("adj_factor", "float64", "复权因子"),
    ),
)

DAILY_BASIC = Dataset(
    name="daily_basic",
    api="daily_basic",
    kind="daily",
    key=("ts_code", "trade_date"),
    date_column="trade_date",
    cross_section_param="trade_date",
    publish_time=time(19, 0),
    description="每日指标",
    columns=_columns(
        ("ts_code", "string", "股票代码"),
        ("trade_date", "string", "交易日期"),
        ("close", "float64", "当日收盘价"),
        ("turnover_rate", "float64", "换手率（%）"),
        ("turnover_rate_f", "float64", "换手率（自由流通股）"),
        ("volume_ratio", "float64", "量比"),
        ("pe", "float64", "市盈率"),
        ("pe_ttm", "float64", "市盈率（TTM）"),
        ("pb", "float64", "市净率"),
        ("ps", "float64", "市销率"),
        ("ps_ttm", "float64", "市销率（TTM）"),
        ("dv_ratio", "float64", "股息率（%）"),
        ("dv_ttm", "float64", "股息率（TTM，%）"),
        ("total_share", "float64", "总股本（万股）"),
        ("float_share", "float64", "流通股本（万股）"),
        ("free_share", "float64", "自由流通股本（万股）"),
        ("total_mv", "float64", "总市值（万元）"),
        ("circ_mv", "float64", "流通市值（万元）"),
    ),
)

SUSPEND_D = Dataset(
    name="suspend_d",
    api="suspend_d",
    kind="daily",
    key=("ts_code", "trade_date"),
    date_column="trade_date",
    cross_section_param="trade_date",
    # Lists of codes are not confirmed for suspend_d, though the local server accepts them.
    multi_code=False,
    row_cap=5000,
    # Suspensions are announced ahead of the day, so 09:30 is an estimate of when a
    # day's list is complete, not a documented time.
    publish_time=time(9, 30),
    points=2000,
    sparse=True,
    description="每日停复牌信息",
    columns=_columns(
        ("ts_code", "string", "股票代码"),
        ("trade_date", "string", "停复牌日期"),
        ("suspend_timing", "string", "停牌时间段"),
        ("suspend_type", "string", "停复牌类型：S 停牌，R 复牌"),
    ),
)

DATASETS: dict[str, Dataset] = {
    dataset.name: dataset
    for dataset in (STOCK_BASIC, TRADE_CAL, DAILY, ADJ_FACTOR, DAILY_BASIC, SUSPEND_D)
}

# Snapshot datasets the planner needs before it can plan anything else.
REFERENCE_DATASETS: tuple[str, ...] = ("stock_basic", "trade_cal")

# ``list_status`` values asked for, so that history has no survivorship bias.
LIST_STATUSES: tuple[str, ...] = ("L", "D", "P")


def get_dataset(name: str) -> Dataset:
    """Return the registry entry for ``name``; raise KeyError naming the known datasets."""
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(DATASETS)
        raise KeyError(f"未知数据集 {name!r}；可用的数据集：{known}") from None
