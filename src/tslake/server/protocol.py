"""Tushare's wire format: the request body, the response envelope and the error texts.

The ``tushare`` 1.4.29 client posts ``{"api_name", "token", "params", "fields"}`` and
reads ``{"request_id", "code", "msg", "data": {"fields", "items", "has_more"}}``.
Errors come back with HTTP 200, a non-zero ``code`` and Tushare's Chinese ``msg``,
which the client raises as ``Exception(msg)``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

# Parameters the client adds that select nothing.
IGNORED_PARAMS = frozenset({"ts_type_name", "token"})

TOKEN_INVALID_CODE = 40101
TOKEN_INVALID_MSG = "您的token不对，请确认。"

# Tushare returns 40101 "ts_code required" (in English) when adj_factor gets neither
# ts_code nor trade_date. The server returns the same error for every daily API.
PARAMETER_REQUIRED_CODE = 40101
PARAMETER_REQUIRED_MSG = "ts_code required"

# The message for a malformed date is the server's own, because Tushare's is not known.
PARAMETER_INVALID_CODE = 40101

RATE_LIMIT_CODE = 40203
RATE_LIMIT_MSG = (
    "抱歉，您每分钟最多访问该接口{limit}次，"
    "权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。"
)
# The per-day variant of the rate limit error, with the same code.
DAILY_LIMIT_MSG = (
    "抱歉，您每天最多访问该接口{limit}次，"
    "权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。"
)

# Tushare's error for an API that the account's points do not unlock.
NO_PERMISSION_CODE = 40203
NO_PERMISSION_MSG = (
    "抱歉，您没有接口({api})访问权限，"
    "权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。"
)

# Tushare's error for an unknown api_name.
UNKNOWN_API_CODE = -1
UNKNOWN_API_MSG = "请指定正确的接口名"

# Tushare's error for a body whose params it cannot parse.
MALFORMED_REQUEST_CODE = -1000
MALFORMED_REQUEST_MSG = "系统内部错误"

SERVER_FAULT_CODE = 50101
SERVER_FAULT_MSG = "服务器错误，请稍后再试！期待您能把错误反馈给我们，谢谢！"

DATE_PATTERN = re.compile(r"^\d{8}$")

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"


class ApiError(Exception):
    """An error that the server returns as a Tushare error code and message."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def rate_limit_error(limit: int) -> ApiError:
    return ApiError(RATE_LIMIT_CODE, RATE_LIMIT_MSG.format(limit=limit))


@dataclass(frozen=True)
class Reply:
    """One HTTP response of the server.

    ``code`` is the Tushare code inside the body, or None when the body carries none
    (an HTTP error page, a body that is not JSON, or no response at all). With
    ``reset`` set, the server closes the connection without sending a response.
    """

    body: bytes
    code: int | None
    status: int = 200
    content_type: str = JSON_CONTENT_TYPE
    reset: bool = False


@dataclass(frozen=True)
class ApiRequest:
    """One parsed request; ``params`` holds only the parameters that select data."""

    api_name: str
    token: str
    params: dict[str, Any]
    fields: Any


def parse_request(body: bytes) -> ApiRequest:
    """Parse a request body; raise ApiError(-1000) if it is not a Tushare request object."""
    try:
        request = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(MALFORMED_REQUEST_CODE, MALFORMED_REQUEST_MSG) from None
    if not isinstance(request, dict):
        raise ApiError(MALFORMED_REQUEST_CODE, MALFORMED_REQUEST_MSG)
    params = request.get("params")
    if params is None or params == "":
        params = {}
    if not isinstance(params, dict):
        raise ApiError(MALFORMED_REQUEST_CODE, MALFORMED_REQUEST_MSG)
    api_name = request.get("api_name")
    token = request.get("token")
    return ApiRequest(
        api_name=api_name if isinstance(api_name, str) else "",
        token=token if isinstance(token, str) else "",
        params={key: value for key, value in params.items() if key not in IGNORED_PARAMS},
        fields=request.get("fields", ""),
    )


def param_value(params: dict[str, Any], name: str) -> str | None:
    """Return a parameter as stripped text; a missing, null or empty value is None."""
    value = params.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def date_param(params: dict[str, Any], name: str) -> str | None:
    """Return a date parameter (YYYYMMDD), None if missing; raise ApiError if malformed."""
    value = param_value(params, name)
    if value is None:
        return None
    if not DATE_PATTERN.match(value):
        raise ApiError(
            PARAMETER_INVALID_CODE,
            f"参数 {name} 格式不对：{value!r}，日期应为 YYYYMMDD，例如 20261204",
        )
    return value


def requested_fields(fields: Any) -> list[str]:
    """Return the field names of a ``fields`` value: "" or null, "a,b" or ["a", "b"].

    Repeated names are kept once.
    """
    if fields is None:
        return []
    if isinstance(fields, str):
        names = fields.split(",")
    elif isinstance(fields, list | tuple):
        names = [str(name) for name in fields]
    else:
        names = [str(fields)]
    unique: dict[str, None] = {}
    for name in names:
        stripped = name.strip()
        if stripped:
            unique[stripped] = None
    return list(unique)


def select_fields(
    frame: pd.DataFrame, requested: list[str], default: Sequence[str]
) -> pd.DataFrame:
    """Return the requested columns of ``frame`` in the requested order.

    Unknown names are ignored. With nothing requested, or nothing known requested,
    the API's default columns are returned.
    """
    columns = [name for name in requested if name in frame.columns]
    if not columns:
        columns = list(default)
    return frame[columns]


def frame_items(frame: pd.DataFrame) -> list[list[Any]]:
    """Return the rows of ``frame`` as JSON-ready lists, with every null as None."""
    columns = [frame[name].to_numpy(dtype=object, na_value=None) for name in frame.columns]
    return [list(row) for row in zip(*columns, strict=True)]


def success_body(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "request_id": uuid.uuid4().hex,
        "code": 0,
        "msg": None,
        "data": {
            "fields": list(frame.columns),
            "items": frame_items(frame),
            "has_more": False,
        },
    }


def error_body(error: ApiError) -> dict[str, Any]:
    return {"request_id": uuid.uuid4().hex, "code": error.code, "msg": error.msg, "data": None}


def encode_body(body: dict[str, Any]) -> bytes:
    """Encode a response as UTF-8 JSON; raise ValueError on a NaN or infinite float."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")


def success_reply(frame: pd.DataFrame) -> Reply:
    return Reply(encode_body(success_body(frame)), code=0)


def error_reply(error: ApiError) -> Reply:
    return Reply(encode_body(error_body(error)), code=error.code)
