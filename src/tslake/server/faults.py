"""Fault injection: rules that make the local server misbehave like Tushare and its data.

A rule is a mapping with the keys

* ``kind``: one of ``KINDS`` (required);
* ``api``: the API it affects, or ``"*"`` for every API (default ``"*"``);
* ``match``: ``{param: value}``; every listed request parameter must equal the
  value, or, for a comma-separated list such as ``ts_code``, contain it. A list of
  values matches any of them. Missing means every call;
* ``after``: how many matching calls to leave alone first (default 0);
* ``times``: how many matching calls to affect before the rule heals (default 1,
  -1 for every call);
* the options of its kind, at the same level (``KIND_OPTIONS``).

Faults act at three stages of a call:

* request stage (``REQUEST_KINDS``): before the token, API and rate limit checks.
  ``delay`` sleeps and lets the call go on. Every other kind replaces the response,
  and rules after it in the list are not evaluated for that call, so they do not
  count it.
* data stage (``DATA_KINDS``): changes the rows of a successful response before the
  row cap cuts the oldest rows.
* schema stage (``SCHEMA_KINDS``): changes the table of a successful response after
  the field selection.

Data and schema rules count only calls that pass the server's own checks. A rule
counts a call when its ``api`` and ``match`` select it and its kind applies to that
API (``KIND_APIS``). Faults change responses only, never the source's tables.

Kinds and their options (defaults in brackets):

* ``delay``: sleep ``seconds`` [5] and then respond normally.
* ``reset``: close the TCP connection with a reset and send no response.
* ``http_status``: HTTP ``status`` [503], 400 to 599, with an HTML page or ``body``.
  The tushare client returns an empty DataFrame with no columns and raises nothing.
* ``not_json``: HTTP 200 with an HTML page or ``body`` that is not JSON.
* ``server_error``: code -1000 ``系统内部错误``, or code 50101 with ``variant`` 2 [1].
* ``rate_minute``, ``rate_day``: code 40203 with the per-minute or per-day limit
  text for ``limit`` calls [500, 8000].
* ``no_permission``: code 40203, no permission for the requested API.
* ``bad_token``: code 40101, invalid token.
* ``partial_day``: keep ``share`` [0.5] of each trading day's rows.
* ``drop_symbols``: remove the rows of ``codes`` (required list).
* ``bad_values``: make the first ``rows`` [3] rows impossible for their dataset.
* ``closed_day_row``: add a copy of the newest row dated ``date`` [the first
  closed day after it], which must be a closed day of the calendar.
* ``duplicate_row``: send the first row twice.
* ``bad_code``: add a copy of the first row with ts_code ``code`` [``../../etc.SH``].
* ``extra_column``: add column ``name`` [``new_field``] filled with ``value`` [0.0].
* ``drop_column``: remove column ``name`` (required).
* ``numbers_as_strings``: send every number as a JSON string.
* ``nulls``: set a ``share`` [0.1] of the numbers to null.
* ``empty``: send the columns and no rows.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from tslake.server import protocol
from tslake.server.calendar import TradingCalendar
from tslake.server.protocol import ApiError, Reply
from tslake.server.source import DAILY_APIS, SERVED_APIS

logger = logging.getLogger(__name__)

ANY_API = "*"
FOREVER = -1

REQUEST_KINDS: tuple[str, ...] = (
    "delay",
    "reset",
    "http_status",
    "not_json",
    "server_error",
    "rate_minute",
    "rate_day",
    "no_permission",
    "bad_token",
)
DATA_KINDS: tuple[str, ...] = (
    "partial_day",
    "drop_symbols",
    "bad_values",
    "closed_day_row",
    "duplicate_row",
    "bad_code",
)
SCHEMA_KINDS: tuple[str, ...] = (
    "extra_column",
    "drop_column",
    "numbers_as_strings",
    "nulls",
    "empty",
)
KINDS: tuple[str, ...] = REQUEST_KINDS + DATA_KINDS + SCHEMA_KINDS

# Kinds that make sense only for some APIs; every other kind applies to every API.
# A rule for ``"*"`` skips the calls of other APIs without counting them.
KIND_APIS: dict[str, tuple[str, ...]] = {
    "partial_day": DAILY_APIS,
    "bad_values": DAILY_APIS,
    "closed_day_row": DAILY_APIS,
    "drop_symbols": (*DAILY_APIS, "stock_basic"),
    "bad_code": (*DAILY_APIS, "stock_basic"),
}

RULE_KEYS: tuple[str, ...] = ("kind", "api", "match", "after", "times")

# An nginx-style page, as a proxy in front of an API sends it.
ERROR_PAGE = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class FaultError(ValueError):
    """An invalid fault rule or rules file; the message is Chinese and names the value."""


# Option readers: each takes the option name and the raw value and returns the
# checked value or raises FaultError.


def _as_float(value: object) -> float | None:
    """Return a JSON or YAML number as a float; None for anything else, booleans included."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _seconds(name: str, value: object) -> float:
    number = _as_float(value)
    if number is None or not math.isfinite(number) or number < 0:
        raise FaultError(f"选项 {name} 必须是不小于 0 的秒数，而不是 {value!r}")
    return number


def _share(name: str, value: object) -> float:
    number = _as_float(value)
    if number is None or not 0 <= number <= 1:
        raise FaultError(f"选项 {name} 必须是 0 到 1 之间的比例，而不是 {value!r}")
    return number


def _positive_integer(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise FaultError(f"选项 {name} 必须是正整数，而不是 {value!r}")
    return value


def _http_status(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 400 <= value <= 599:
        raise FaultError(f"选项 {name} 必须是 400 到 599 之间的 HTTP 状态码，而不是 {value!r}")
    return value


def _variant(name: str, value: object) -> int:
    if isinstance(value, bool) or value not in (1, 2):
        raise FaultError(f"选项 {name} 只能是 1（code -1000）或 2（code 50101），而不是 {value!r}")
    return 1 if value == 1 else 2


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FaultError(f"选项 {name} 必须是非空文本，而不是 {value!r}")
    return value.strip()


def _body(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise FaultError(f"选项 {name} 必须是文本，而不是 {value!r}")
    return value


def _scalar(name: str, value: object) -> object:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise FaultError(f"选项 {name} 必须是文本、数字、布尔值或 null，而不是 {value!r}")


def _code_list(name: str, value: object) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(code, str) and code.strip() for code in value)
    ):
        raise FaultError(
            f'选项 {name} 必须是非空的股票代码列表，例如 ["600000.SH"]，而不是 {value!r}'
        )
    return tuple(code.strip() for code in value)


def _day(name: str, value: object) -> str:
    # YAML reads an unquoted 20240615 as an integer.
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(text, str) and len(text) == 8 and text.isdigit():
        try:
            datetime.strptime(text, "%Y%m%d")
        except ValueError:
            pass
        else:
            return text
    raise FaultError(f"选项 {name} 必须是 YYYYMMDD 格式的日期，例如 20240615，而不是 {value!r}")


class Option(NamedTuple):
    """One option of a fault kind: its reader and its default (REQUIRED if none)."""

    read: Callable[[str, object], Any]
    default: object


REQUIRED = object()

# Options of every kind with their defaults. The default daily limit of rate_day
# is the 8,000 calls a day of an account with 120 points.
KIND_OPTIONS: dict[str, dict[str, Option]] = {
    "delay": {"seconds": Option(_seconds, 5.0)},
    "reset": {},
    "http_status": {"status": Option(_http_status, 503), "body": Option(_body, None)},
    "not_json": {"body": Option(_body, None)},
    "server_error": {"variant": Option(_variant, 1)},
    "rate_minute": {"limit": Option(_positive_integer, 500)},
    "rate_day": {"limit": Option(_positive_integer, 8000)},
    "no_permission": {},
    "bad_token": {},
    "partial_day": {"share": Option(_share, 0.5)},
    "drop_symbols": {"codes": Option(_code_list, REQUIRED)},
    "bad_values": {"rows": Option(_positive_integer, 3)},
    "closed_day_row": {"date": Option(_day, None)},
    "duplicate_row": {},
    "bad_code": {"code": Option(_text, "../../etc.SH")},
    "extra_column": {"name": Option(_text, "new_field"), "value": Option(_scalar, 0.0)},
    "drop_column": {"name": Option(_text, REQUIRED)},
    "numbers_as_strings": {},
    "nulls": {"share": Option(_share, 0.1)},
    "empty": {},
}


@dataclass(eq=False)
class FaultRule:
    """One checked fault rule and its counters.

    ``seen`` counts the calls the rule selected and ``affected`` the calls it
    changed. A FaultSet updates both under its lock.
    """

    kind: str
    api: str
    match: dict[str, frozenset[str]]
    after: int
    times: int
    options: dict[str, Any]
    seen: int = 0
    affected: int = 0

    @property
    def healed(self) -> bool:
        """Whether the rule has affected its ``times`` calls and leaves all later calls alone."""
        return self.times != FOREVER and self.affected >= self.times

    def applies_to(self, api: str) -> bool:
        if self.api not in (ANY_API, api):
            return False
        supported = KIND_APIS.get(self.kind)
        return supported is None or api in supported

    def matches(self, api: str, params: dict[str, Any]) -> bool:
        """Return whether the call of ``api`` with ``params`` is one this rule selects."""
        if not self.applies_to(api):
            return False
        for name, expected in self.match.items():
            value = protocol.param_value(params, name)
            if value is None:
                return False
            request_values = {value} | {item.strip() for item in value.split(",") if item.strip()}
            if request_values.isdisjoint(expected):
                return False
        return True

    def describe(self) -> str:
        """Return a one-line Chinese summary of the rule for logs."""
        parts = [f"接口 {self.api}"]
        if self.match:
            selected = {name: sorted(values) for name, values in self.match.items()}
            parts.append(f"match {json.dumps(selected, ensure_ascii=False)}")
        parts.append(f"after {self.after}")
        parts.append("times 不限" if self.times == FOREVER else f"times {self.times}")
        if self.options:
            parts.append(json.dumps(self.options, ensure_ascii=False))
        return f"{self.kind}（{'，'.join(parts)}）"


def parse_rule(raw: object) -> FaultRule:
    """Check one rule mapping and return it as a FaultRule; raise FaultError otherwise."""
    if not isinstance(raw, Mapping):
        raise FaultError(f"故障规则必须是映射（JSON 对象），而不是 {raw!r}")
    kind = raw.get("kind")
    if kind is None:
        raise FaultError(f"故障规则缺少 kind；可用的类型：{', '.join(KINDS)}")
    if kind not in KINDS:
        raise FaultError(f"未知的故障类型 {kind!r}；可用的类型：{', '.join(KINDS)}")

    specs = KIND_OPTIONS[kind]
    for key in raw:
        if key not in RULE_KEYS and key not in specs:
            available = ", ".join(specs) if specs else "无"
            raise FaultError(f"故障类型 {kind} 没有选项 {key!r}；它的选项：{available}")

    options: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in raw:
            options[name] = spec.read(name, raw[name])
        elif spec.default is REQUIRED:
            raise FaultError(f"故障类型 {kind} 缺少必需的选项 {name}")
        else:
            options[name] = spec.default

    return FaultRule(
        kind=kind,
        api=_rule_api(raw.get("api", ANY_API), kind),
        match=_rule_match(raw.get("match")),
        after=_rule_after(raw.get("after", 0)),
        times=_rule_times(raw.get("times", 1)),
        options=options,
    )


def _rule_api(value: object, kind: str) -> str:
    if value == ANY_API:
        return ANY_API
    if not isinstance(value, str) or value not in SERVED_APIS:
        raise FaultError(
            f'故障规则的 api 必须是 "*" 或本地服务提供的接口（{", ".join(SERVED_APIS)}），'
            f"而不是 {value!r}"
        )
    supported = KIND_APIS.get(kind)
    if supported is not None and value not in supported:
        raise FaultError(f"故障类型 {kind} 只适用于接口 {', '.join(supported)}，不适用于 {value}")
    return value


def _rule_match(value: object) -> dict[str, frozenset[str]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise FaultError(
            f'故障规则的 match 必须是 参数名: 值 的映射，例如 {{"trade_date": "20240614"}}，'
            f"而不是 {value!r}"
        )
    match = {}
    for name, expected in value.items():
        if not isinstance(name, str) or not name:
            raise FaultError(f"match 的参数名必须是非空文本，而不是 {name!r}")
        values = expected if isinstance(expected, list) else [expected]
        texts = [_match_text(name, item) for item in values]
        if not texts:
            raise FaultError(f"match 的参数 {name} 的取值列表不能为空")
        match[name] = frozenset(texts)
    return match


def _match_text(name: str, value: object) -> str:
    # YAML reads an unquoted 20240614 as an integer, so integers count as text.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise FaultError(f"match 的参数 {name} 的值必须是非空文本或整数，而不是 {value!r}")


def _rule_after(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FaultError(f"故障规则的 after 必须是不小于 0 的整数，而不是 {value!r}")
    return value


def _rule_times(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or (value < 1 and value != FOREVER):
        raise FaultError(f"故障规则的 times 必须是正整数或 -1（一直生效），而不是 {value!r}")
    return value


def parse_rules(raw: object) -> list[FaultRule]:
    """Check a list of rule mappings; the error names the rule's position, counted from 1."""
    if not isinstance(raw, list | tuple):
        raise FaultError(f"故障规则必须是一个列表，而不是 {type(raw).__name__}")
    rules = []
    for number, item in enumerate(raw, start=1):
        try:
            rules.append(parse_rule(item))
        except FaultError as error:
            raise FaultError(f"第 {number} 条故障规则：{error}") from None
    return rules


def read_rules_file(path: Path) -> list[dict[str, Any]]:
    """Read and check a JSON (``.json``) or YAML (any other suffix) file with a list of rules.

    Returns the rule mappings as written; an empty file has no rules. Raises
    FaultError naming the file when it cannot be read, parsed or checked.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise FaultError(f"无法读取故障规则文件 {path}：{error.strerror or error}") from None
    except UnicodeDecodeError:
        raise FaultError(f"故障规则文件 {path} 不是 UTF-8 文本") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise FaultError(f"故障规则文件 {path} 格式不对：{error}") from None
    if data is None:
        return []
    try:
        parse_rules(data)
    except FaultError as error:
        raise FaultError(f"故障规则文件 {path}：{error}") from None
    return list(data)


def check_rule_dates(rule: FaultRule, calendar: TradingCalendar) -> None:
    """Raise FaultError unless the ``date`` of a closed_day_row rule is a closed day of ``calendar``."""
    day = rule.options.get("date") if rule.kind == "closed_day_row" else None
    if day is None:
        return
    if not calendar.first_day <= day <= calendar.last_day:
        raise FaultError(
            f"closed_day_row 的日期 {day} 不在交易日历范围内"
            f"（{calendar.first_day} 至 {calendar.last_day}）"
        )
    if calendar.is_session(day):
        raise FaultError(f"closed_day_row 的日期 {day} 是交易日；请指定一个休市日")


class FaultSet:
    """The fault rules of one server, in the order they were added, and their counters.

    All methods are thread-safe: concurrent calls count each matching call exactly once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        """Return the rules, oldest first; the objects are live, so their counters keep moving."""
        with self._lock:
            return list(self._rules)

    def request_faults(self, api: str, params: dict[str, Any]) -> list[FaultRule]:
        """Count the call for the request-stage rules and return the rules that fire.

        The result is zero or more delay rules, then at most one rule that replaces
        the response. Rules after that one do not count the call.
        """
        fired = []
        with self._lock:
            for rule in self._rules:
                if rule.kind not in REQUEST_KINDS or not self._fires(rule, api, params):
                    continue
                fired.append(rule)
                if rule.kind != "delay":
                    break
        return fired

    def response_faults(self, api: str, params: dict[str, Any]) -> list[FaultRule]:
        """Count a call that passed the server's checks for the data and schema rules.

        Returns the rules that fire, in rule order.
        """
        with self._lock:
            return [
                rule
                for rule in self._rules
                if rule.kind not in REQUEST_KINDS and self._fires(rule, api, params)
            ]

    @staticmethod
    def _fires(rule: FaultRule, api: str, params: dict[str, Any]) -> bool:
        """Count the call if ``rule`` selects it; return whether the rule affects it.

        The caller holds the lock.
        """
        if not rule.matches(api, params):
            return False
        rule.seen += 1
        position = rule.seen - rule.after
        if position < 1 or (rule.times != FOREVER and position > rule.times):
            return False
        rule.affected += 1
        logger.info(
            "注入故障 %s：接口 %s，规则匹配的第 %d 次调用，参数 %r",
            rule.kind,
            api,
            rule.seen,
            dict(params),
        )
        return True


def fault_reply(rule: FaultRule, api: str) -> Reply:
    """Return the response that a request-stage rule (any kind but delay) sends in place of the real one."""
    options = rule.options
    if rule.kind == "reset":
        return Reply(b"", code=None, reset=True)
    if rule.kind == "http_status":
        status = options["status"]
        body = options["body"]
        if body is None:
            body = ERROR_PAGE.format(status=status, phrase=_status_phrase(status))
        return Reply(
            body.encode("utf-8"),
            code=None,
            status=status,
            content_type=protocol.HTML_CONTENT_TYPE,
        )
    if rule.kind == "not_json":
        body = options["body"]
        if body is None:
            body = ERROR_PAGE.format(status=502, phrase="Bad Gateway")
        return Reply(body.encode("utf-8"), code=None, content_type=protocol.HTML_CONTENT_TYPE)
    return protocol.error_reply(_fault_error(rule, api))


def _fault_error(rule: FaultRule, api: str) -> ApiError:
    options = rule.options
    if rule.kind == "server_error":
        if options["variant"] == 2:
            return ApiError(protocol.SERVER_FAULT_CODE, protocol.SERVER_FAULT_MSG)
        return ApiError(protocol.MALFORMED_REQUEST_CODE, protocol.MALFORMED_REQUEST_MSG)
    if rule.kind == "rate_minute":
        return protocol.rate_limit_error(options["limit"])
    if rule.kind == "rate_day":
        message = protocol.DAILY_LIMIT_MSG.format(limit=options["limit"])
        return ApiError(protocol.RATE_LIMIT_CODE, message)
    if rule.kind == "no_permission":
        return ApiError(protocol.NO_PERMISSION_CODE, protocol.NO_PERMISSION_MSG.format(api=api))
    if rule.kind == "bad_token":
        return ApiError(protocol.TOKEN_INVALID_CODE, protocol.TOKEN_INVALID_MSG)
    raise ValueError(f"fault kind {rule.kind!r} does not replace the response")


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
