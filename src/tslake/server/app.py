"""The request handler of the local Tushare server, independent of HTTP.

It checks the token, the API name and the per-minute limit, reads the parameters,
queries the source, hides days not yet published at the server clock, applies the
row cap and the field selection, and records every call. Injected faults (see
``tslake.server.faults``) act before the checks, before the row cap and after the
field selection.
"""

from __future__ import annotations

import functools
import hmac
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import pandas as pd

from tslake.clock import SHANGHAI
from tslake.registry import DATASETS
from tslake.server import protocol
from tslake.server.calllog import CallLog, CallRecord
from tslake.server.clock import ServerClock, newest_served_day, today_string
from tslake.server.config import ServerConfig
from tslake.server.fault_tables import apply_data_faults, apply_schema_faults
from tslake.server.faults import (
    DATA_KINDS,
    FaultRule,
    FaultSet,
    check_rule_dates,
    fault_reply,
    parse_rule,
)
from tslake.server.financial_queries import (
    DIVIDEND_API,
    FINANCIAL_APIS,
    REPORT_APIS,
    disclosure_query,
    dividend_query,
    published_through,
    report_query,
)
from tslake.server.protocol import ApiError, ApiRequest, Reply
from tslake.server.ratelimit import RateLimiter
from tslake.server.source import DATED_APIS, SERVED_APIS, SUSPEND_API, MarketSource
from tslake.server.tables import EARLIEST_DAY, LATEST_DAY

logger = logging.getLogger(__name__)

# The columns pro.stock_basic returns when no fields are requested; list_status,
# delist_date, exchange and the other columns come only on request.
STOCK_BASIC_DEFAULT_FIELDS: tuple[str, ...] = (
    "ts_code",
    "symbol",
    "name",
    "area",
    "industry",
    "cnspell",
    "market",
    "list_date",
    "act_name",
    "act_ent_type",
)

# Exchanges whose trade_cal is the SSE calendar.
CALENDAR_EXCHANGES = ("SSE", "SZSE", "BSE")


class DailyQuery(NamedTuple):
    """The rows a request of a dated API selects: codes (None for all) and a date range.

    ``suspend_type`` is suspend_d's filter (None for every type); other APIs ignore it.
    """

    codes: list[str] | None
    first: str
    last: str
    suspend_type: str | None = None


class TushareApp:
    """Turn request bodies into response bodies for one source and one configuration."""

    def __init__(
        self,
        source: MarketSource,
        config: ServerConfig,
        clock: ServerClock | None = None,
        call_log: CallLog | None = None,
    ) -> None:
        self.source = source
        self.config = config
        self.clock = clock if clock is not None else ServerClock(config.now)
        self.call_log = call_log if call_log is not None else CallLog(config.call_log)
        self.limiter = RateLimiter(config.rate_limit, config.rate_limits)
        self.faults = FaultSet()
        for rule in config.faults:
            self.add_fault(rule)
        # Handlers of the APIs that are not daily datasets; they return the whole response
        # and _serve applies the data faults and then the row cap.
        self._handlers: dict[str, Callable[[dict[str, Any]], pd.DataFrame]] = {
            "stock_basic": self._stock_basic,
            "trade_cal": self._trade_cal,
        }
        for api in FINANCIAL_APIS:
            self._handlers[api] = functools.partial(self._financial, api)

    def add_fault(self, rule: Mapping[str, Any]) -> FaultRule:
        """Check a fault rule and add it after the existing ones; raise FaultError if invalid.

        Returns the live rule, whose ``seen`` and ``affected`` counters follow the calls.
        """
        parsed = parse_rule(rule)
        check_rule_dates(parsed, self.source.calendar)
        self.faults.add(parsed)
        logger.info("添加故障规则：%s", parsed.describe())
        return parsed

    def clear_faults(self) -> None:
        """Remove every fault rule, so later calls get normal responses."""
        self.faults.clear()
        logger.info("已清除全部故障规则")

    def handle(self, body: bytes) -> Reply:
        """Handle one request body, record the call and return the response."""
        arrived = datetime.now(SHANGHAI).isoformat(timespec="milliseconds")
        request: ApiRequest | None = None
        rows = 0
        applied: list[str] = []
        try:
            request = protocol.parse_request(body)
            reply = self._inject_request_faults(request, applied)
            if reply is None:
                frame, fired = self._serve(request)
                reply = protocol.success_reply(frame)
                rows = len(frame)
                applied.extend(rule.kind for rule in fired)
        except ApiError as error:
            api = request.api_name if request is not None else "（无法解析的请求）"
            logger.info("拒绝调用 %s：code=%d，%s", api, error.code, error.msg)
            reply = protocol.error_reply(error)
        except Exception:
            # A fault in one request must not stop the server: the client gets Tushare's
            # server-fault response and the traceback goes to the log. The body is not
            # logged because it contains the token.
            api = request.api_name if request is not None else ""
            params = request.params if request is not None else {}
            logger.exception("处理接口 %s 的请求时出错，参数 %r", api, params)
            fault = ApiError(protocol.SERVER_FAULT_CODE, protocol.SERVER_FAULT_MSG)
            reply = protocol.error_reply(fault)

        record = CallRecord(
            time=arrived,
            api=request.api_name if request is not None else "",
            params=dict(request.params) if request is not None else {},
            fields=request.fields if request is not None else "",
            rows=rows,
            code=reply.code,
            fault=",".join(applied) or None,
        )
        self.call_log.record(record)
        return reply

    def _inject_request_faults(self, request: ApiRequest, applied: list[str]) -> Reply | None:
        """Sleep for the delay faults that fire; return the response of a replacing fault, if one fires.

        The kind of every fault that fires is appended to ``applied``.
        """
        for rule in self.faults.request_faults(request.api_name, request.params):
            applied.append(rule.kind)
            if rule.kind == "delay":
                time.sleep(rule.options["seconds"])
            else:
                return fault_reply(rule, request.api_name)
        return None

    def _serve(self, request: ApiRequest) -> tuple[pd.DataFrame, list[FaultRule]]:
        """Return the table of a successful response and the data and schema faults that changed it."""
        self._check_token(request.token)
        api = request.api_name
        if api not in SERVED_APIS:
            raise ApiError(protocol.UNKNOWN_API_CODE, protocol.UNKNOWN_API_MSG)
        exceeded = self.limiter.acquire(api)
        if exceeded is not None:
            raise protocol.rate_limit_error(exceeded)
        if api in DATED_APIS:
            query = self._daily_query(api, request.params)
            fired = self.faults.response_faults(api, request.params)
            frame = self._daily(api, query, _data_rules(fired))
            default = DATASETS[api].column_names
        else:
            frame = self._handlers[api](request.params)
            fired = self.faults.response_faults(api, request.params)
            data_rules = _data_rules(fired)
            if data_rules:
                frame = apply_data_faults(frame, api, data_rules, self.source.calendar)
            frame = frame.head(self.config.row_cap(api)).reset_index(drop=True)
            default = (
                STOCK_BASIC_DEFAULT_FIELDS if api == "stock_basic" else DATASETS[api].column_names
            )
        requested = protocol.requested_fields(request.fields)
        frame = protocol.select_fields(frame, requested, default)
        return apply_schema_faults(frame, fired), fired

    def _check_token(self, token: str) -> None:
        expected = self.config.token
        if not token:
            raise ApiError(protocol.TOKEN_INVALID_CODE, protocol.TOKEN_INVALID_MSG)
        if expected is not None and not hmac.compare_digest(token.encode(), expected.encode()):
            raise ApiError(protocol.TOKEN_INVALID_CODE, protocol.TOKEN_INVALID_MSG)

    def _daily_query(self, api: str, params: dict[str, Any]) -> DailyQuery:
        """Read the parameters of daily, adj_factor, daily_basic or suspend_d.

        ``trade_date`` selects one day and wins over ``start_date``/``end_date``.
        ``offset`` and ``limit`` are ignored: Tushare's daily does not page.
        suspend_d also reads ``suspend_type``, and only ``S`` or ``R`` there select rows.
        """
        codes = _codes(protocol.param_value(params, "ts_code"))
        trade_date = protocol.date_param(params, "trade_date")
        start_date = protocol.date_param(params, "start_date")
        end_date = protocol.date_param(params, "end_date")
        suspend_type = None
        if api == SUSPEND_API:
            # NOTE: whether Tushare rejects a suspend_d call without a code or a date is
            # not known. This server serves the newest rows up to the row cap.
            suspend_type = protocol.param_value(params, "suspend_type")
        elif codes is None and trade_date is None and start_date is None:
            raise ApiError(protocol.PARAMETER_REQUIRED_CODE, protocol.PARAMETER_REQUIRED_MSG)
        if trade_date is not None:
            return DailyQuery(codes, trade_date, trade_date, suspend_type)
        return DailyQuery(codes, start_date or EARLIEST_DAY, end_date or LATEST_DAY, suspend_type)

    def _daily(self, api: str, query: DailyQuery, data_rules: Sequence[FaultRule]) -> pd.DataFrame:
        """Serve the published rows of a dated API, changed by ``data_rules``, up to the row cap."""
        cap = self.config.row_cap(api)
        query = query._replace(last=min(query.last, self._last_published(api)))
        if not data_rules:
            return self._dated_rows(api, query, cap)

        # The faults change the whole response and the cap then cuts the oldest rows. A
        # long response is not built whole: fetch a window of the newest rows and widen
        # it until the faulted whole days in it fill the cap.
        window = 2 * cap
        while True:
            rows = self._dated_rows(api, query, window)
            if len(rows) < window:
                faulted = apply_data_faults(rows, api, data_rules, self.source.calendar)
                return faulted.head(cap).reset_index(drop=True)
            # The window may end inside its oldest day. Faults see only the whole days
            # before it, and rows they place on or before that day are dropped, because
            # in the whole response more rows would come before them.
            cut_day = rows["trade_date"].iloc[-1]
            whole_days = rows.loc[rows["trade_date"] > cut_day]
            if not whole_days.empty:
                faulted = apply_data_faults(whole_days, api, data_rules, self.source.calendar)
                faulted = faulted.loc[faulted["trade_date"] > cut_day]
                if len(faulted) >= cap:
                    return faulted.head(cap).reset_index(drop=True)
            window *= 4

    def _dated_rows(self, api: str, query: DailyQuery, limit: int | None) -> pd.DataFrame:
        """Return the source's rows of a dated API for ``query``, newest first, at most ``limit``."""
        if api == SUSPEND_API:
            return self.source.suspend_rows(
                query.codes, query.first, query.last, query.suspend_type, limit
            )
        return self.source.daily_rows(api, query.codes, query.first, query.last, limit)

    def _stock_basic(self, params: dict[str, Any]) -> pd.DataFrame:
        frame = self.source.stock_basic(today_string(self.clock.now()))
        list_status = protocol.param_value(params, "list_status") or "L"
        selected = frame["list_status"] == list_status
        codes = _codes(protocol.param_value(params, "ts_code"))
        if codes is not None:
            selected &= frame["ts_code"].isin(codes)
        for name in ("exchange", "market", "is_hs", "name"):
            value = protocol.param_value(params, name)
            if value is not None:
                selected &= frame[name] == value
        return frame.loc[selected].reset_index(drop=True)

    def _trade_cal(self, params: dict[str, Any]) -> pd.DataFrame:
        """Serve the SSE calendar for SSE, SZSE and BSE; other exchanges get no rows."""
        exchange = protocol.param_value(params, "exchange") or "SSE"
        frame = self.source.trade_cal()
        start_date = protocol.date_param(params, "start_date")
        end_date = protocol.date_param(params, "end_date")
        selected = pd.Series(exchange in CALENDAR_EXCHANGES, index=frame.index)
        if start_date is not None:
            selected &= frame["cal_date"] >= start_date
        if end_date is not None:
            selected &= frame["cal_date"] <= end_date
        is_open = protocol.param_value(params, "is_open")
        if is_open is not None:
            selected &= frame["is_open"].astype(str) == is_open
        rows = frame.loc[selected].iloc[::-1].reset_index(drop=True)
        rows["exchange"] = exchange
        return rows

    def _financial(self, api: str, params: dict[str, Any]) -> pd.DataFrame:
        """Serve a statement API, fina_indicator, dividend or disclosure_date, newest first.

        Rows are visible once their announcement day is published: ``publish_time``
        on the day ``publish_lag_days`` after it (see ``financial_queries``).
        """
        visible_through = self._visible_through(api)
        if api in REPORT_APIS:
            return self.source.report_rows(api, report_query(api, params), visible_through)
        if api == DIVIDEND_API:
            return self.source.event_rows(api, dividend_query(params), visible_through)
        return self.source.event_rows(api, disclosure_query(params), visible_through)

    def _visible_through(self, api: str) -> str:
        lag_days = DATASETS[api].publish_lag_days
        return published_through(self.clock.now(), self.config.publish_time(api), lag_days)

    def _last_published(self, api: str) -> str:
        return newest_served_day(self.clock.now(), self.config.publish_time(api))

    def visible_table(self, name: str) -> pd.DataFrame:
        """Return everything the server would serve of ``name`` at its clock, without row caps.

        Daily datasets and suspend_d stop at the newest published day, stock_basic is
        as of today (all list statuses), trade_cal is the whole SSE calendar, newest
        first, and the financial APIs hold the rows announced by their newest published
        day, in ``MarketSource.financial_table`` order.
        """
        if name in DATED_APIS:
            query = DailyQuery(None, EARLIEST_DAY, self._last_published(name))
            return self._dated_rows(name, query, None)
        if name == "stock_basic":
            return self.source.stock_basic(today_string(self.clock.now()))
        if name in FINANCIAL_APIS:
            return self.source.financial_table(name, self._visible_through(name))
        return self.source.table(name)


def _data_rules(rules: Sequence[FaultRule]) -> list[FaultRule]:
    return [rule for rule in rules if rule.kind in DATA_KINDS]


def _codes(value: str | None) -> list[str] | None:
    """Split a comma-separated ts_code list; None when no code is given."""
    if value is None:
        return None
    codes = [code.strip().upper() for code in value.split(",") if code.strip()]
    return codes or None
