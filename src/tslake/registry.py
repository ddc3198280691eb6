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

from tslake.statement_fields import BALANCESHEET_VALUES, CASHFLOW_VALUES, INCOME_VALUES

ColumnType = Literal["string", "float64", "int64"]
# snapshot: the whole table per run date. daily: one row per (symbol, trading day).
# statement: per-symbol reports filtered by announcement date, covered "as of" a day.
# event: announcements with a one-day cross-section, covered "as of" a calendar day.
UpdateKind = Literal["snapshot", "daily", "statement", "event"]
ANNOUNCEMENT_KINDS: tuple[str, ...] = ("statement", "event")

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
    # Column holding the trading day (daily kind) or the announcement day that the
    # date parameters filter and coverage counts (statement and event kinds).
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
    # Key columns that identify one version of a row. Views keep one row per version
    # key, so a row fetched twice with a changed ``update_flag`` is not doubled.
    version_key: tuple[str, ...] = ()
    # Days before a symbol's as-of day that an incremental request also covers
    # (statement kind), for APIs whose date filter is uncertain.
    lookback_days: int = 0
    # Whether the API takes ``report_type`` (statement kind): one request per type.
    report_types: bool = False
    # Days after an announcement day until its rows are final (statement and event kinds).
    publish_lag_days: int = 0
    # More one-day parameters asked for every new day (event kind): rows added later to
    # an earlier announcement can carry a later day only in such a column.
    extra_day_params: tuple[str, ...] = ()
    # (column, value) of the last stage of an event (event kind). Announcement days
    # with events not yet at that stage are asked again while younger than
    # ``revisit_days``, because later stages keep the first announcement's day.
    final_stage: tuple[str, str] | None = None
    revisit_days: int = 0

    @property
    def dedupe_key(self) -> tuple[str, ...]:
        return self.version_key or self.key

    @property
    def announcement(self) -> bool:
        return self.kind in ANNOUNCEMENT_KINDS

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

# Statements are final in the evening of the announcement day, at the latest the next
# day. So a day counts as covered from 20:00 of the day after (an estimate, not documented).
STATEMENT_PUBLISH_TIME = time(20, 0)

_STATEMENT_ID = (
    ("ts_code", "string", "股票代码"),
    ("ann_date", "string", "公告日期"),
    ("f_ann_date", "string", "实际公告日期"),
    ("end_date", "string", "报告期"),
    ("report_type", "string", "报表类型"),
    ("comp_type", "string", "公司类型：1 一般工商业 2 银行 3 保险 4 证券"),
    ("end_type", "string", "报告期类型"),
)
_STATEMENT_KEY = ("ts_code", "end_date", "report_type", "ann_date", "f_ann_date", "update_flag")
_UPDATE_FLAG = ("update_flag", "string", "更新标识：1 为该报告期最新版本")


def _statement(name: str, description: str, values: tuple[str, ...], row_cap: int) -> Dataset:
    unit = f"{description}项目（元，含义见 Tushare {name} 接口文档）"
    return Dataset(
        name=name,
        api=name,
        kind="statement",
        key=_STATEMENT_KEY,
        version_key=_STATEMENT_KEY[:-1],
        date_column="f_ann_date",
        row_cap=row_cap,
        publish_time=STATEMENT_PUBLISH_TIME,
        publish_lag_days=1,
        report_types=True,
        points=2000,
        description=description,
        columns=_columns(
            *_STATEMENT_ID,
            *((value, "float64", unit) for value in values),
            _UPDATE_FLAG,
        ),
    )


INCOME = _statement("income", "利润表", INCOME_VALUES, 500)
BALANCESHEET = _statement("balancesheet", "资产负债表", BALANCESHEET_VALUES, 100)
CASHFLOW = _statement("cashflow", "现金流量表", CASHFLOW_VALUES, 100)

FINA_INDICATOR = Dataset(
    name="fina_indicator",
    api="fina_indicator",
    kind="statement",
    key=("ts_code", "end_date", "ann_date", "update_flag"),
    version_key=("ts_code", "end_date", "ann_date"),
    date_column="ann_date",
    # NOTE: Tushare's documentation has start_date/end_date filter the report period,
    # other sources the announcement day. Requesting 400 days further back covers the
    # last five report periods either way.
    lookback_days=400,
    row_cap=100,
    publish_time=STATEMENT_PUBLISH_TIME,
    publish_lag_days=1,
    points=2000,
    description="财务指标",
    columns=_columns(
        ("ts_code", "string", "股票代码"),
        ("ann_date", "string", "公告日期"),
        ("end_date", "string", "报告期"),
        ("eps", "float64", "基本每股收益"),
        ("dt_eps", "float64", "稀释每股收益"),
        ("total_revenue_ps", "float64", "每股营业总收入"),
        ("revenue_ps", "float64", "每股营业收入"),
        ("extra_item", "float64", "非经常性损益"),
        ("profit_dedt", "float64", "扣除非经常性损益后的净利润"),
        ("gross_margin", "float64", "毛利"),
        ("current_ratio", "float64", "流动比率"),
        ("quick_ratio", "float64", "速动比率"),
        ("cash_ratio", "float64", "保守速动比率"),
        ("ar_turn", "float64", "应收账款周转率"),
        ("assets_turn", "float64", "总资产周转率"),
        ("ebit", "float64", "息税前利润"),
        ("ebitda", "float64", "息税折旧摊销前利润"),
        ("fcff", "float64", "企业自由现金流量"),
        ("fcfe", "float64", "股权自由现金流量"),
        ("bps", "float64", "每股净资产"),
        ("ocfps", "float64", "每股经营活动产生的现金流量净额"),
        ("cfps", "float64", "每股现金流量净额"),
        ("netprofit_margin", "float64", "销售净利率"),
        ("grossprofit_margin", "float64", "销售毛利率"),
        ("roe", "float64", "净资产收益率"),
        ("roe_waa", "float64", "加权平均净资产收益率"),
        ("roe_dt", "float64", "净资产收益率（扣除非经常损益）"),
        ("roa", "float64", "总资产报酬率"),
        ("debt_to_assets", "float64", "资产负债率"),
        ("netprofit_yoy", "float64", "归属母公司股东的净利润同比增长率（%）"),
        ("or_yoy", "float64", "营业收入同比增长率（%）"),
        ("update_flag", "string", "更新标识：1 为该报告期最新版本"),
    ),
)

DIVIDEND = Dataset(
    name="dividend",
    api="dividend",
    kind="event",
    key=("ts_code", "end_date", "ann_date", "div_proc"),
    date_column="ann_date",
    cross_section_param="ann_date",
    # Every stage of a plan keeps the proposal's ann_date. Only 实施 rows carry a day
    # of their own (imp_ann_date), so new days are requested by both.
    extra_day_params=("imp_ann_date",),
    final_stage=("div_proc", "实施"),
    revisit_days=120,
    row_cap=2000,
    publish_time=STATEMENT_PUBLISH_TIME,
    publish_lag_days=1,
    points=2000,
    description="分红送股（每个实施进度一行）",
    columns=_columns(
        ("ts_code", "string", "股票代码"),
        ("end_date", "string", "分红年度"),
        ("ann_date", "string", "预案公告日（各实施进度相同）"),
        ("div_proc", "string", "实施进度"),
        ("stk_div", "float64", "每股送转"),
        ("stk_bo_rate", "float64", "每股送股比例"),
        ("stk_co_rate", "float64", "每股转增比例"),
        ("cash_div", "float64", "每股分红（税后）"),
        ("cash_div_tax", "float64", "每股分红（税前）"),
        ("record_date", "string", "股权登记日"),
        ("ex_date", "string", "除权除息日"),
        ("pay_date", "string", "派息日"),
        ("div_listdate", "string", "红股上市日"),
        ("imp_ann_date", "string", "实施公告日"),
    ),
)

DISCLOSURE_DATE = Dataset(
    name="disclosure_date",
    api="disclosure_date",
    kind="event",
    key=("ts_code", "end_date", "actual_date"),
    date_column="actual_date",
    cross_section_param="actual_date",
    row_cap=3000,
    publish_time=STATEMENT_PUBLISH_TIME,
    publish_lag_days=1,
    points=500,
    description="财报披露日期（按实际披露日，用于规划财务报表的增量下载）",
    columns=_columns(
        ("ts_code", "string", "股票代码"),
        ("ann_date", "string", "最新披露公告日"),
        ("end_date", "string", "报告期"),
        ("pre_date", "string", "预计披露日期"),
        ("actual_date", "string", "实际披露日期"),
        ("modify_date", "string", "披露日期修正记录"),
    ),
)

FINANCIAL_DATASETS: tuple[Dataset, ...] = (
    INCOME,
    BALANCESHEET,
    CASHFLOW,
    FINA_INDICATOR,
    DIVIDEND,
    DISCLOSURE_DATE,
)

# Statement datasets are planned from the announcements in this dataset.
ANNOUNCEMENT_INDEX = "disclosure_date"

DATASETS: dict[str, Dataset] = {
    dataset.name: dataset
    for dataset in (
        STOCK_BASIC,
        TRADE_CAL,
        DAILY,
        ADJ_FACTOR,
        DAILY_BASIC,
        SUSPEND_D,
        *FINANCIAL_DATASETS,
    )
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
