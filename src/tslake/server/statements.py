"""Rows of income, balancesheet, cashflow and fina_indicator for one simulated stock.

The values follow the stock's size in its price series: yearly sales, earnings and
book value (``series.SALES``, ``EARNINGS``, ``BOOK_VALUE``) at the end of each report
period, split into quarters with some noise. Amounts are in CNY with two decimals,
per-share values in CNY, ratios in percent. Columns the simulation does not model
stay null, as many do in real responses.

Each report has one row per version: the original, announced on its ``ann_date``,
and each correction, which keeps ``ann_date`` and has the correction day as
``f_ann_date``. A correction changes revenue, net income and equity by a few percent,
and every column derived from them. Statements have report_type ``1`` (year to date)
for every report, ``2`` (the quarter alone) for the first three quarters, and ``4``
(adjusted) for the annual reports that ``ReportSchedule.adjusted_days`` lists. The
tables here hold every version without ``update_flag``; ``financial_queries``
sets the flags for the server clock and selects the rows, on the key columns alone,
so that only the returned rows are built as wide frames.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from tslake.registry import FINA_INDICATOR, Dataset, get_dataset
from tslake.server import days as calendar_days
from tslake.server import series as sim
from tslake.server.calendar import TradingCalendar
from tslake.server.reports import ReportSchedule
from tslake.server.tables import typed_frame
from tslake.server.universe import Listing

# comp_type of banks; every other simulated company is "1" (general business).
BANK_INDUSTRY = "银行"

# Columns of ReportSchedule.value_draws.
REVENUE_NOISE = 0
INCOME_NOISE = 1
EQUITY_NOISE = 2
CASH_NOISE = 3
FINANCING_NOISE = 4
REVISION_DRAWS = (5, 6, 7, 8)
EQUITY_REVISION = 9
ADJUSTMENT_NOISE = 10
OTHER_INCOME_NOISE = 11


# Columns that financial_queries.select_reports reads.
KEY_COLUMNS: tuple[str, ...] = ("ts_code", "ann_date", "f_ann_date", "end_date", "report_type")


class ReportTable:
    """Every row of one stock for one report API, as column arrays of equal length."""

    def __init__(self, dataset: Dataset, columns: dict[str, np.ndarray]) -> None:
        self.dataset = dataset
        self._columns = columns

    def keys(self) -> pd.DataFrame:
        """Return the key columns of every row, in row order."""
        names = [name for name in KEY_COLUMNS if name in self._columns]
        return pd.DataFrame({name: self._columns[name] for name in names})

    def frame(self, rows: np.ndarray) -> pd.DataFrame:
        """Return the given rows, in the given order, with the registry's columns and types."""
        return typed_frame(
            self.dataset, {name: values[rows] for name, values in self._columns.items()}
        )


class _Drivers(NamedTuple):
    """Per-period amounts every column is derived from, in CNY (shares in shares)."""

    revenue_quarter: np.ndarray
    revenue_to_date: np.ndarray
    income_quarter: np.ndarray
    income_to_date: np.ndarray
    equity: np.ndarray
    shares: np.ndarray


class _Profile(NamedTuple):
    """Constant ratios of one company."""

    gross_margin: float
    leverage: float
    minority_share: float
    expense_ratio: float


class _Rows(NamedTuple):
    """One entry per output row: its report, version, report_type and dates."""

    period: np.ndarray
    version: np.ndarray
    report_type: np.ndarray
    ann_date: np.ndarray
    f_ann_date: np.ndarray


def statement_table(
    api: str,
    listing: Listing,
    schedule: ReportSchedule,
    series: sim.SymbolSeries,
    calendar: TradingCalendar,
) -> ReportTable:
    """Return every version of every report of one stock for income, balancesheet or cashflow."""
    dataset = get_dataset(api)
    drivers = _drivers(schedule, series, calendar)
    profile = _profile(schedule, listing)
    rows = _statement_rows(schedule)
    amounts = _row_amounts(schedule, drivers, rows)
    if api == "income":
        values = _income_columns(amounts, profile)
    elif api == "balancesheet":
        values = _balance_columns(amounts, profile)
    else:
        values = _cashflow_columns(amounts, profile)
    columns = _identity_columns(listing, schedule, rows) | _rounded(values)
    return ReportTable(dataset, columns)


def indicator_table(
    listing: Listing,
    schedule: ReportSchedule,
    series: sim.SymbolSeries,
    calendar: TradingCalendar,
) -> ReportTable:
    """Return every version of every report of one stock for fina_indicator.

    A correction here is a row of its own with the correction day as ``ann_date``,
    because fina_indicator has no ``f_ann_date``.
    """
    drivers = _drivers(schedule, series, calendar)
    profile = _profile(schedule, listing)
    versions = _versions(schedule)
    rows = versions._replace(ann_date=versions.f_ann_date)
    amounts = _row_amounts(schedule, drivers, rows)
    income = _income_columns(amounts, profile)
    balance = _balance_columns(amounts, profile)
    cash = _cashflow_columns(amounts, profile)
    shares = amounts["shares"]
    revenue = income["revenue"]
    equity = balance["total_hldr_eqy_exc_min_int"]
    assets = balance["total_assets"]
    extra_item = income["non_oper_income"] - income["non_oper_exp"]
    profit_dedt = income["n_income_attr_p"] - extra_item
    previous_revenue, previous_income = _year_before(schedule, drivers, rows.period)
    values = {
        "eps": income["basic_eps"],
        "dt_eps": income["diluted_eps"],
        "total_revenue_ps": revenue / shares,
        "revenue_ps": revenue / shares,
        "extra_item": extra_item,
        "profit_dedt": profit_dedt,
        "gross_margin": revenue - income["oper_cost"],
        "current_ratio": balance["total_cur_assets"] / balance["total_cur_liab"],
        "quick_ratio": (balance["total_cur_assets"] - balance["inventories"])
        / balance["total_cur_liab"],
        "cash_ratio": balance["money_cap"] / balance["total_cur_liab"],
        "ar_turn": revenue / balance["accounts_receiv"],
        "assets_turn": revenue / assets,
        "ebit": income["ebit"],
        "ebitda": income["ebitda"],
        "bps": equity / shares,
        "ocfps": cash["n_cashflow_act"] / shares,
        "cfps": cash["n_incr_cash_cash_equ"] / shares,
        "netprofit_margin": 100.0 * income["n_income"] / revenue,
        "grossprofit_margin": 100.0 * (revenue - income["oper_cost"]) / revenue,
        "roe": 100.0 * income["n_income_attr_p"] / equity,
        "roe_waa": 98.0 * income["n_income_attr_p"] / equity,
        "roe_dt": 100.0 * profit_dedt / equity,
        "roa": 100.0 * income["n_income"] / assets,
        "debt_to_assets": 100.0 * balance["total_liab"] / assets,
        "netprofit_yoy": _growth(
            income["n_income_attr_p"], previous_income * (1.0 - profile.minority_share)
        ),
        "or_yoy": _growth(revenue, previous_revenue),
    }
    columns = {
        "ts_code": np.full(len(rows.period), listing.ts_code, dtype=object),
        "ann_date": calendar_days.as_strings(rows.ann_date),
        "end_date": calendar_days.as_strings(schedule.end_dates[rows.period]),
    }
    rounded = {name: np.round(value, 4) for name, value in values.items()}
    return ReportTable(FINA_INDICATOR, columns | rounded)


def _drivers(
    schedule: ReportSchedule, series: sim.SymbolSeries, calendar: TradingCalendar
) -> _Drivers:
    """Read the stock's size at each period end and split the yearly amounts into quarters."""
    sessions = np.searchsorted(calendar.sessions, schedule.end_dates, side="right") - 1
    positions = np.searchsorted(series.days, sessions, side="right") - 1
    epochs = series.epoch[np.clip(positions, 0, len(series.days) - 1)]
    values = series.epoch_values
    draws = schedule.value_draws
    revenue_quarter = values[sim.SALES, epochs] * 1e4 / 4.0 * np.exp(0.08 * draws[:, REVENUE_NOISE])
    income_quarter = (
        values[sim.EARNINGS, epochs] * 1e4 / 4.0 * (1.0 + 0.25 * draws[:, INCOME_NOISE])
    )
    equity = values[sim.BOOK_VALUE, epochs] * 1e4 * (1.0 + 0.02 * draws[:, EQUITY_NOISE])
    shares = values[sim.TOTAL_SHARE, epochs] * 1e4
    return _Drivers(
        revenue_quarter=revenue_quarter,
        revenue_to_date=_to_date(schedule.end_types, revenue_quarter),
        income_quarter=income_quarter,
        income_to_date=_to_date(schedule.end_types, income_quarter),
        equity=equity,
        shares=shares,
    )


def _to_date(end_types: np.ndarray, quarter: np.ndarray) -> np.ndarray:
    """Sum the quarters of each fiscal year up to each period.

    Quarters before the stock's first report (it reported before listing) count as
    the first reported quarter.
    """
    to_date = np.empty(len(quarter))
    for position, end_type in enumerate(end_types):
        if end_type == 1 or position == 0:
            earlier = (end_type - 1) * quarter[position]
        else:
            earlier = to_date[position - 1]
        to_date[position] = earlier + quarter[position]
    return to_date


def _profile(schedule: ReportSchedule, listing: Listing) -> _Profile:
    draws = schedule.profile_draws
    bank = listing.industry == BANK_INDUSTRY
    return _Profile(
        gross_margin=0.15 + 0.4 * float(draws[0]),
        leverage=(11.0 if bank else 1.4) + 1.6 * float(draws[1]),
        minority_share=0.15 * float(draws[2]),
        expense_ratio=0.04 + 0.08 * float(draws[3]),
    )


def _versions(schedule: ReportSchedule) -> _Rows:
    """Return one row per version of every report, report_type 1."""
    corrected = schedule.corrections > 0
    counts = 1 + corrected.sum(axis=1)
    period = np.repeat(np.arange(len(schedule)), counts)
    starts = np.cumsum(counts) - counts
    version = np.arange(len(period)) - np.repeat(starts, counts)
    # Column 0 of the day table is the original announcement, then the corrections.
    days = np.concatenate([schedule.announcements[:, None], schedule.corrections], axis=1)
    return _Rows(
        period=period,
        version=version,
        report_type=np.full(len(period), "1", dtype=object),
        ann_date=schedule.announcements[period],
        f_ann_date=days[period, version],
    )


def _statement_rows(schedule: ReportSchedule) -> _Rows:
    """Return the rows of a statement: every version as type 1 and 2, plus the type 4 rows."""
    versions = _versions(schedule)
    quarterly = schedule.end_types[versions.period] != 4
    single_quarter = _Rows(*(column[quarterly] for column in versions))
    single_quarter = single_quarter._replace(
        report_type=np.full(len(single_quarter.period), "2", dtype=object)
    )
    adjusted_periods = np.flatnonzero(schedule.adjusted_days > 0)
    last_version = (schedule.corrections[adjusted_periods] > 0).sum(axis=1)
    adjusted = _Rows(
        period=adjusted_periods,
        version=last_version,
        report_type=np.full(len(adjusted_periods), "4", dtype=object),
        ann_date=schedule.adjusted_days[adjusted_periods],
        f_ann_date=schedule.adjusted_days[adjusted_periods],
    )
    parts = (versions, single_quarter, adjusted)
    return _Rows(*(np.concatenate(columns) for columns in zip(*parts, strict=True)))


def _row_amounts(schedule: ReportSchedule, drivers: _Drivers, rows: _Rows) -> dict[str, np.ndarray]:
    """Return revenue, net income, equity and shares of every row, revisions applied.

    Version k of a report scales revenue, net income and equity by a revision drawn
    for that report; the adjusted (type 4) version scales the latest version again.
    """
    period = rows.period
    draws = schedule.value_draws[period]
    version = rows.version
    revenue_change = np.select(
        [version == 1, version == 2],
        [0.01 * draws[:, REVISION_DRAWS[0]], 0.01 * draws[:, REVISION_DRAWS[2]]],
        0.0,
    )
    income_change = np.select(
        [version == 1, version == 2],
        [0.04 * draws[:, REVISION_DRAWS[1]], 0.04 * draws[:, REVISION_DRAWS[3]]],
        0.0,
    )
    equity_change = np.where(version > 0, 0.01 * version * draws[:, EQUITY_REVISION], 0.0)
    adjusted = rows.report_type == "4"
    adjustment = np.where(adjusted, 0.02 * draws[:, ADJUSTMENT_NOISE], 0.0)

    quarter_only = rows.report_type == "2"
    revenue = np.where(
        quarter_only, drivers.revenue_quarter[period], drivers.revenue_to_date[period]
    )
    income = np.where(quarter_only, drivers.income_quarter[period], drivers.income_to_date[period])
    return {
        "revenue": revenue * (1.0 + revenue_change) * (1.0 + 0.5 * adjustment),
        "income": income * (1.0 + income_change) * (1.0 + adjustment),
        "equity": drivers.equity[period] * (1.0 + equity_change) * (1.0 + 0.5 * adjustment),
        "shares": drivers.shares[period],
        "cash_noise": draws[:, CASH_NOISE],
        "financing_noise": draws[:, FINANCING_NOISE],
        "other_income_noise": draws[:, OTHER_INCOME_NOISE],
    }


def _income_columns(amounts: dict[str, np.ndarray], profile: _Profile) -> dict[str, np.ndarray]:
    """Derive the income statement; operating profit balances through invest_income."""
    revenue = amounts["revenue"]
    net_income = amounts["income"]
    oper_cost = revenue * (1.0 - profile.gross_margin)
    biz_tax = 0.006 * revenue
    sell_exp = 0.4 * profile.expense_ratio * revenue
    admin_exp = 0.4 * profile.expense_ratio * revenue
    rd_exp = 0.2 * profile.expense_ratio * revenue
    fin_exp = 0.01 * revenue
    total_cogs = oper_cost + biz_tax + sell_exp + admin_exp + rd_exp + fin_exp
    # A profit pays 20% income tax; a loss pays none.
    total_profit = np.where(net_income > 0, net_income / 0.8, net_income)
    income_tax = total_profit - net_income
    non_oper_income = 0.002 * revenue
    non_oper_exp = 0.001 * revenue
    operate_profit = total_profit - non_oper_income + non_oper_exp
    minority_gain = net_income * profile.minority_share
    attributable = net_income - minority_gain
    other_income = 0.01 * np.abs(net_income) * amounts["other_income_noise"]
    eps = np.round(attributable / amounts["shares"], 4)
    ebit = total_profit + fin_exp
    return {
        "basic_eps": eps,
        "diluted_eps": eps,
        "total_revenue": revenue,
        "revenue": revenue,
        "invest_income": operate_profit - (revenue - total_cogs),
        "total_cogs": total_cogs,
        "oper_cost": oper_cost,
        "biz_tax_surchg": biz_tax,
        "sell_exp": sell_exp,
        "admin_exp": admin_exp,
        "fin_exp": fin_exp,
        "operate_profit": operate_profit,
        "non_oper_income": non_oper_income,
        "non_oper_exp": non_oper_exp,
        "total_profit": total_profit,
        "income_tax": income_tax,
        "n_income": net_income,
        "n_income_attr_p": attributable,
        "minority_gain": minority_gain,
        "oth_compr_income": other_income,
        "t_compr_income": net_income + other_income,
        "compr_inc_attr_p": attributable + other_income,
        "compr_inc_attr_m_s": minority_gain,
        "ebit": ebit,
        "ebitda": ebit + 0.03 * revenue,
        "rd_exp": rd_exp,
        "fin_exp_int_exp": 1.2 * fin_exp,
        "fin_exp_int_inc": 0.2 * fin_exp,
        "continued_net_profit": net_income,
    }


def _balance_columns(amounts: dict[str, np.ndarray], profile: _Profile) -> dict[str, np.ndarray]:
    """Derive the balance sheet from equity, leverage and the share count."""
    equity = amounts["equity"]
    minority = equity * profile.minority_share
    equity_with_minority = equity + minority
    assets = equity_with_minority * profile.leverage
    liabilities = assets - equity_with_minority
    shares = amounts["shares"]
    current_assets = 0.38 * assets
    current_liabilities = 0.6 * liabilities
    return {
        "total_share": shares,
        "cap_rese": 0.3 * equity,
        "undistr_porfit": 0.6 * equity - shares,
        "surplus_rese": 0.1 * equity,
        "money_cap": 0.12 * assets,
        "accounts_receiv": 0.1 * assets,
        "inventories": 0.12 * assets,
        "oth_cur_assets": 0.04 * assets,
        "total_cur_assets": current_assets,
        "fix_assets": 0.3 * assets,
        "intan_assets": 0.05 * assets,
        "total_nca": assets - current_assets,
        "total_assets": assets,
        "st_borr": 0.2 * liabilities,
        "acct_payable": 0.25 * liabilities,
        "total_cur_liab": current_liabilities,
        "lt_borr": 0.25 * liabilities,
        "total_ncl": liabilities - current_liabilities,
        "total_liab": liabilities,
        "minority_int": minority,
        "total_hldr_eqy_exc_min_int": equity,
        "total_hldr_eqy_inc_min_int": equity_with_minority,
        "total_liab_hldr_eqy": assets,
    }


def _cashflow_columns(amounts: dict[str, np.ndarray], profile: _Profile) -> dict[str, np.ndarray]:
    """Derive the cash flow statement; the period ends with the balance sheet's money_cap."""
    revenue = amounts["revenue"]
    net_income = amounts["income"]
    operating = net_income * (1.0 + 0.3 * amounts["cash_noise"])
    sales_cash = 1.08 * revenue
    other_operating_in = 0.02 * revenue
    inflow = sales_cash + other_operating_in
    outflow = inflow - operating
    capital_spending = 0.05 * revenue
    investing_out = 0.07 * revenue
    investing = -0.06 * revenue
    financing = 0.02 * revenue * amounts["financing_noise"]
    change = operating + investing + financing
    ending = 0.12 * _balance_columns(amounts, profile)["total_assets"]
    return {
        "net_profit": net_income,
        "finan_exp": 0.01 * revenue,
        "c_fr_sale_sg": sales_cash,
        "c_fr_oth_operate_a": other_operating_in,
        "c_inf_fr_operate_a": inflow,
        "c_paid_goods_s": 0.7 * outflow,
        "c_paid_to_for_empl": 0.15 * outflow,
        "c_paid_for_taxes": 0.1 * outflow,
        "oth_cash_pay_oper_act": 0.05 * outflow,
        "st_cash_out_act": outflow,
        "n_cashflow_act": operating,
        "stot_inflows_inv_act": investing_out + investing,
        "c_pay_acq_const_fiolta": capital_spending,
        "stot_out_inv_act": investing_out,
        "n_cashflow_inv_act": investing,
        "n_cash_flows_fnc_act": financing,
        "free_cashflow": operating - capital_spending,
        "n_incr_cash_cash_equ": change,
        "c_cash_equ_beg_period": ending - change,
        "c_cash_equ_end_period": ending,
    }


def _identity_columns(listing: Listing, schedule: ReportSchedule, rows: _Rows) -> dict:
    count = len(rows.period)
    comp_type = "2" if listing.industry == BANK_INDUSTRY else "1"
    return {
        "ts_code": np.full(count, listing.ts_code, dtype=object),
        "ann_date": calendar_days.as_strings(rows.ann_date),
        "f_ann_date": calendar_days.as_strings(rows.f_ann_date),
        "end_date": calendar_days.as_strings(schedule.end_dates[rows.period]),
        "report_type": rows.report_type,
        "comp_type": np.full(count, comp_type, dtype=object),
        "end_type": schedule.end_types[rows.period].astype(str).astype(object),
    }


def _rounded(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Round amounts to two decimals; per-share values keep their four."""
    return {
        name: value if name.endswith("eps") else np.round(value, 2)
        for name, value in values.items()
    }


def _year_before(
    schedule: ReportSchedule, drivers: _Drivers, period: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the original year-to-date revenue and net income of the same period a year
    earlier (NaN where the stock did not report it)."""
    earlier = period - 4
    known = (earlier >= 0) & (
        schedule.end_dates[np.maximum(earlier, 0)] == schedule.end_dates[period] - 10000
    )
    revenue = np.where(known, drivers.revenue_to_date[np.maximum(earlier, 0)], np.nan)
    income = np.where(known, drivers.income_to_date[np.maximum(earlier, 0)], np.nan)
    return revenue, income


def _growth(current: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Return the growth in percent; NaN where the previous value is missing or not positive."""
    valid = previous > 0
    growth = np.full(len(current), np.nan)
    growth[valid] = 100.0 * (current[valid] / previous[valid] - 1.0)
    return growth
