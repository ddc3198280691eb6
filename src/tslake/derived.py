"""Catalog views computed at read time: adjusted prices and point-in-time statements.

Raw rows are stored once and never rewritten, so these views are the only place
where adjustment or version selection happens.

* `daily_hfq`: back-adjusted prices, raw price x the day's adjustment factor.
* `daily_qfq`: forward-adjusted prices, anchored at each symbol's newest factor in
  the lake. `tushare.pro_bar` anchors at the newest factor inside the requested
  window and rounds to 2 decimals, so the two agree for a window that ends at the
  lake's newest day, apart from that rounding.
* `<statement>_latest`: the newest version of every report (symbol, period, type).
* `<statement>_asof(day)`: a table macro with the newest version known on `day`,
  that is announced on or before it (`YYYYMMDD` text).
"""

from __future__ import annotations

import duckdb

from tslake.registry import DATASETS

PRICE_COLUMNS = ("open", "high", "low", "close", "pre_close")

# Each daily row takes its day's factor; a day without one takes the nearest earlier
# factor, as pro_bar does.
_FACTORED = """
SELECT d.*, coalesce(a.adj_factor, last_value(a.adj_factor IGNORE NULLS) OVER (
    PARTITION BY d.ts_code ORDER BY d.trade_date
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS adj_factor
FROM daily AS d LEFT JOIN adj_factor AS a USING (ts_code, trade_date)
"""

_NEWEST_FACTOR = """
SELECT ts_code, arg_max(adj_factor, trade_date) AS anchor FROM adj_factor GROUP BY ts_code
"""


def _adjusted_select(scale: str) -> str:
    """Return the columns of an adjusted view, with prices multiplied by `scale`."""
    prices = ", ".join(f"f.{name} * {scale} AS {name}" for name in PRICE_COLUMNS)
    change = f"(f.close - f.pre_close) * {scale}"
    return (
        f"f.ts_code, f.trade_date, {prices}, {change} AS change, "
        f"CASE WHEN f.pre_close = 0 THEN NULL ELSE (f.close - f.pre_close) / f.pre_close * 100 END "
        "AS pct_chg, f.vol, f.amount, f.adj_factor"
    )


def adjusted_views() -> dict[str, str]:
    """Return the SQL of `daily_hfq` and `daily_qfq`."""
    return {
        "daily_hfq": f"SELECT {_adjusted_select('f.adj_factor')} FROM ({_FACTORED}) AS f",
        "daily_qfq": (
            f"SELECT {_adjusted_select('f.adj_factor / n.anchor')} FROM ({_FACTORED}) AS f "
            f"JOIN ({_NEWEST_FACTOR}) AS n USING (ts_code)"
        ),
    }


def _version_order(name: str) -> tuple[str, str]:
    """Return the report identity and the newest-first version order of a statement dataset."""
    dataset = DATASETS[name]
    known_since = dataset.date_column or "ann_date"
    identity = ["ts_code", "end_date"]
    if dataset.report_types:
        identity.append("report_type")
    order = [f"{known_since} DESC", "update_flag DESC"]
    if known_since != "ann_date":
        order.append("ann_date DESC")
    return ", ".join(identity), ", ".join(order)


def point_in_time_sql(name: str) -> dict[str, str]:
    """Return the `_latest` view and the `_asof` macro bodies of one statement dataset."""
    identity, order = _version_order(name)
    known_since = DATASETS[name].date_column or "ann_date"
    newest = f"QUALIFY row_number() OVER (PARTITION BY {identity} ORDER BY {order}) = 1"
    return {
        "latest": f"SELECT * FROM {name} {newest}",
        "asof": f"SELECT * FROM {name} WHERE {known_since} <= day {newest}",
    }


def create_derived_views(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the adjusted-price views and the point-in-time views and macros."""
    for view, sql in adjusted_views().items():
        connection.execute(f"CREATE VIEW {view} AS {sql}")
    for name, dataset in DATASETS.items():
        if dataset.kind != "statement":
            continue
        sql = point_in_time_sql(name)
        connection.execute(f"CREATE VIEW {name}_latest AS {sql['latest']}")
        connection.execute(f"CREATE MACRO {name}_asof(day) AS TABLE {sql['asof']}")
