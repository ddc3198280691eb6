"""A local server that speaks Tushare Pro's HTTP protocol, for tests and offline demos.

It serves stock_basic, trade_cal, daily, adj_factor, daily_basic, suspend_d, the
statements (income, balancesheet, cashflow), fina_indicator, dividend and
disclosure_date from a deterministic simulated market (``SimMarket``) or from recorded real tables
(``ReplaySource``), with Tushare's newest-first order, row caps that drop the oldest
rows, per-minute limits, error texts and publication times. Fault rules
(``tslake.server.faults``) make it time out, drop connections, return errors or
change tables. The real ``tushare`` client talks to it unchanged::

    with start_server(ServerConfig(now="2026-12-04T20:00")) as server:
        pro = tushare.pro_api("any-token")
        pro._DataApi__http_url = server.url
        frame = pro.daily(trade_date="20261204")
"""

from tslake.server.calendar import TradingCalendar, sse_calendar
from tslake.server.calllog import CallRecord
from tslake.server.config import ServerConfig
from tslake.server.faults import FaultError, FaultRule
from tslake.server.httpd import RunningServer, build_source, start_server
from tslake.server.market import SimMarket
from tslake.server.replay import ReplayError, ReplaySource
from tslake.server.source import SERVED_APIS, MarketSource

__all__ = [
    "SERVED_APIS",
    "CallRecord",
    "FaultError",
    "FaultRule",
    "MarketSource",
    "ReplayError",
    "ReplaySource",
    "RunningServer",
    "ServerConfig",
    "SimMarket",
    "TradingCalendar",
    "build_source",
    "sse_calendar",
    "start_server",
]
