"""Parameters, visibility, filters and row order of the financial APIs, for every source.

The APIs follow Tushare's documented behaviour:

* income, balancesheet, cashflow: ``ts_code`` is required. ``start_date`` and
  ``end_date`` filter the registry's ``date_column`` (``f_ann_date``), ``ann_date``
  selects one announcement day, and ``report_type`` one report type, ``1``
  (consolidated) when it is missing or empty. ``period`` is rejected with the
  no-permission error, because only the ``_vip`` variants take it.
* fina_indicator: the same, on ``ann_date`` and without report types.
* dividend: at least one of ``ts_code``, ``ann_date``, ``record_date``, ``ex_date``,
  ``imp_ann_date``; each selects rows with that exact value.
* disclosure_date: ``ts_code``, ``end_date`` (the report period), ``pre_date`` and
  ``actual_date`` select rows with that exact value; none is required.

A row is visible once the day in the dataset's ``date_column`` is published (see
``published_through``), with two exceptions. Every dividend row of a plan has the
proposal day as ``ann_date``, and each row is visible once its own stage is
published (see ``select_dividends``). A disclosure_date row is visible from its
``ann_date`` on, and shows ``actual_date`` only once that day is published. Rows
come back newest first, and the server's row cap then drops the oldest.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, NamedTuple

import pandas as pd

from tslake.clock import SHANGHAI
from tslake.registry import get_dataset
from tslake.server import protocol
from tslake.server.clock import newest_served_day
from tslake.server.protocol import ApiError
from tslake.server.tables import EARLIEST_DAY, LATEST_DAY

STATEMENT_APIS: tuple[str, ...] = ("income", "balancesheet", "cashflow")
INDICATOR_API = "fina_indicator"
REPORT_APIS: tuple[str, ...] = (*STATEMENT_APIS, INDICATOR_API)
DIVIDEND_API = "dividend"
DISCLOSURE_API = "disclosure_date"
FINANCIAL_APIS: tuple[str, ...] = (*REPORT_APIS, DIVIDEND_API, DISCLOSURE_API)

DEFAULT_REPORT_TYPE = "1"
DIVIDEND_PARAMS: tuple[str, ...] = ("ts_code", "ann_date", "record_date", "ex_date", "imp_ann_date")
DISCLOSURE_PARAMS: tuple[str, ...] = ("ts_code", "end_date", "pre_date", "actual_date")

# Stages of a dividend plan (div_proc), in the order Tushare lists the rows of one plan.
DIVIDEND_STAGES: tuple[str, ...] = ("预案", "股东大会通过", "实施")
IMPLEMENTATION_STAGE = DIVIDEND_STAGES[2]
# Hidden column of a dividend frame with the day (YYYYMMDD) its stage was announced.
PUBLISHED_COLUMN = "_published"


class ReportQuery(NamedTuple):
    """Rows of one stock whose date column lies in [first, last].

    ``ann_date`` None selects every announcement day, ``report_type`` None every type.
    """

    ts_code: str
    first: str = EARLIEST_DAY
    last: str = LATEST_DAY
    ann_date: str | None = None
    report_type: str | None = None


class EventQuery(NamedTuple):
    """Rows whose columns equal every value in ``filters`` (column name to value)."""

    filters: dict[str, str]


def published_through(now: datetime, publish_time: time | None, lag_days: int) -> str:
    """Return the newest announcement day (YYYYMMDD) whose rows are published at ``now``.

    A day D counts once ``publish_time`` (Shanghai) of day D + ``lag_days`` has passed.
    """
    newest = newest_served_day(now, publish_time)
    day = datetime.strptime(newest, "%Y%m%d").replace(tzinfo=SHANGHAI)
    return (day - timedelta(days=lag_days)).strftime("%Y%m%d")


def report_query(api: str, params: dict[str, Any]) -> ReportQuery:
    """Read the parameters of a statement API or fina_indicator; raise ApiError if invalid."""
    if protocol.param_value(params, "period") is not None:
        raise ApiError(protocol.NO_PERMISSION_CODE, protocol.NO_PERMISSION_MSG.format(api=api))
    ts_code = protocol.param_value(params, "ts_code")
    if ts_code is None:
        raise ApiError(protocol.PARAMETER_REQUIRED_CODE, protocol.PARAMETER_REQUIRED_MSG)
    report_type = None
    if api in STATEMENT_APIS:
        report_type = protocol.param_value(params, "report_type") or DEFAULT_REPORT_TYPE
    return ReportQuery(
        ts_code=ts_code.upper(),
        first=protocol.date_param(params, "start_date") or EARLIEST_DAY,
        last=protocol.date_param(params, "end_date") or LATEST_DAY,
        ann_date=protocol.date_param(params, "ann_date"),
        report_type=report_type,
    )


def dividend_query(params: dict[str, Any]) -> EventQuery:
    """Read the parameters of dividend; raise ApiError unless one of them is given."""
    filters = _exact_filters(params, DIVIDEND_PARAMS)
    if not filters:
        raise ApiError(protocol.PARAMETER_REQUIRED_CODE, protocol.PARAMETER_REQUIRED_MSG)
    return EventQuery(filters)


def disclosure_query(params: dict[str, Any]) -> EventQuery:
    """Read the parameters of disclosure_date; all of them are optional."""
    return EventQuery(_exact_filters(params, DISCLOSURE_PARAMS))


def _exact_filters(params: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    filters = {}
    for name in names:
        if name == "ts_code":
            value = protocol.param_value(params, name)
            value = value.upper() if value is not None else None
        else:
            value = protocol.date_param(params, name)
        if value is not None:
            filters[name] = value
    return filters


def select_reports(
    frame: pd.DataFrame, api: str, query: ReportQuery, visible_through: str, set_flags: bool
) -> pd.DataFrame:
    """Return the rows of ``query`` visible on ``visible_through``, newest first.

    Rows are ordered by the date column, then end_date, both descending, then by
    report_type. With ``set_flags``, ``update_flag`` is recomputed among the visible
    rows: "1" for the newest version of each (ts_code, end_date, report_type), "0"
    for the others. Sources that record real flags pass False.
    """
    dataset = get_dataset(api)
    date_column = dataset.date_column
    assert date_column is not None
    rows = frame.loc[frame[date_column] <= visible_through]
    rows = _newest_first(rows, [date_column, "end_date"], ["report_type"])
    if set_flags:
        version_group = [name for name in ("ts_code", "end_date", "report_type") if name in rows]
        older = rows.duplicated(subset=version_group)
        rows = rows.assign(update_flag=older.map({True: "0", False: "1"}).astype("str"))

    selected = (rows["ts_code"] == query.ts_code) & rows[date_column].between(
        query.first, query.last
    )
    if query.ann_date is not None:
        selected &= rows["ann_date"] == query.ann_date
    if query.report_type is not None and "report_type" in rows:
        selected &= rows["report_type"] == query.report_type
    return rows.loc[selected].reset_index(drop=True)


def select_dividends(frame: pd.DataFrame, query: EventQuery, visible_through: str) -> pd.DataFrame:
    """Return the dividend rows of ``query`` whose stage is published by ``visible_through``.

    The stage's day comes from ``PUBLISHED_COLUMN`` when the frame has that column,
    which is dropped from the result. Frames without it, such as recorded responses,
    use ``imp_ann_date`` for a 实施 row that has one and ``ann_date`` for other rows.
    Order: ann_date descending, then ts_code, end_date descending and the stage.
    """
    rows = frame.loc[_stage_days(frame) <= visible_through]
    rows = _filtered(rows, query)
    stage = rows["div_proc"].map({name: rank for rank, name in enumerate(DIVIDEND_STAGES)})
    rows = rows.assign(_stage=stage.fillna(len(DIVIDEND_STAGES)))
    rows = rows.sort_values(
        ["ann_date", "ts_code", "end_date", "_stage"],
        ascending=[False, True, False, True],
        kind="stable",
    )
    rows = rows.drop(columns=["_stage", PUBLISHED_COLUMN], errors="ignore")
    return rows.reset_index(drop=True)


def _stage_days(frame: pd.DataFrame) -> pd.Series:
    """Return the day (YYYYMMDD) on which the stage of each dividend row was announced."""
    if PUBLISHED_COLUMN in frame:
        return frame[PUBLISHED_COLUMN]
    implemented = (frame["div_proc"] == IMPLEMENTATION_STAGE) & frame["imp_ann_date"].notna()
    return frame["imp_ann_date"].where(implemented, frame["ann_date"])


def select_disclosures(
    frame: pd.DataFrame, query: EventQuery, visible_through: str
) -> pd.DataFrame:
    """Return the visible disclosure_date rows of ``query``, newest report period first.

    A row is visible from its ``ann_date``; an ``actual_date`` after
    ``visible_through`` is shown as null. Rows of one period are in ts_code order.
    """
    rows = frame.loc[frame["ann_date"] <= visible_through].copy()
    future = rows["actual_date"] > visible_through
    rows.loc[future.fillna(False), "actual_date"] = None
    rows = _filtered(rows, query)
    rows = rows.sort_values(["end_date", "ts_code"], ascending=[False, True], kind="stable")
    return rows.reset_index(drop=True)


def _filtered(rows: pd.DataFrame, query: EventQuery) -> pd.DataFrame:
    selected = pd.Series(True, index=rows.index)
    for column, value in query.filters.items():
        selected &= rows[column] == value
    return rows.loc[selected]


def _newest_first(rows: pd.DataFrame, descending: list[str], ascending: list[str]) -> pd.DataFrame:
    present = [name for name in ascending if name in rows]
    return rows.sort_values(
        descending + present,
        ascending=[False] * len(descending) + [True] * len(present),
        kind="stable",
    )
