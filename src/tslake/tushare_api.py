"""The one place that talks to Tushare: the real `tushare` client, pointed at a URL.

Every call is paced by the shared per-minute limiter, and every failure is
classified:

* per-minute limit (40203 "每分钟"): wait for the window, then retry;
* transient (timeout, connection reset, HTTP error status, a body that is not
  JSON, server-fault texts): retry with bounded exponential backoff;
* daily or hourly quota, missing permission, invalid token: raise at once.

An empty table is only returned when the server sent an empty table. The
`tushare` client returns an empty frame without columns on HTTP errors
(status >= 400), and that case is a failure here, never "no data".
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import requests
import tushare

from tslake.clock import SHANGHAI
from tslake.ratelimit import SharedRateLimiter

log = logging.getLogger(__name__)

TOKEN_ENV = "TUSHARE_TOKEN"
# Token sent to the local server, which accepts any non-empty token.
LOCAL_TOKEN = "local-server"

PER_MINUTE_TEXT = "每分钟最多访问"
PER_HOUR_TEXT = "每小时最多访问"
PER_DAY_TEXT = "每天最多访问"
NO_PERMISSION_TEXT = "没有接口"
INVALID_TOKEN_TEXT = "token不对"
SERVER_FAULT_TEXTS = ("系统内部错误", "服务器错误", "系统繁忙")


class TushareError(RuntimeError):
    """A call that failed; the message is meant for the user."""


class TransientError(TushareError):
    """A failure that another try may not repeat."""


class QuotaExhaustedError(TushareError):
    """The account's daily or hourly quota for an API is used up."""


class PermissionDeniedError(TushareError):
    """The account has too few points for an API."""


class InvalidTokenError(TushareError):
    """The server rejected the token."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; see `retries`, `retry_wait` and `rate_limit_wait` in config."""

    retries: int = 5
    first_wait: float = 2.0
    max_wait: float = 60.0
    rate_limit_wait: float = 60.0
    # Per-minute refusals are retried apart from `retries`, up to this many times.
    rate_limit_retries: int = 10

    def backoff(self, attempt: int) -> float:
        return min(self.max_wait, self.first_wait * 2 ** (attempt - 1))


def read_token(source: str) -> str:
    """Return the token for `source`; raise InvalidTokenError when a real token is missing."""
    if source != "tushare":
        return LOCAL_TOKEN
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise InvalidTokenError(
            f"未设置环境变量 {TOKEN_ENV}：请先执行 export {TOKEN_ENV}=你的token，"
            "或运行 bash scripts/demo.sh，在单独的 demo-data 目录中用本地模拟市场试运行。"
        )
    return token


def _next_midnight() -> str:
    tomorrow = datetime.now(SHANGHAI).date() + timedelta(days=1)
    return f"{tomorrow.isoformat()} 00:00（上海时间）"


def classify(api: str, message: str, points: int | None) -> TushareError:
    """Turn the text of a Tushare error into the matching exception, with a Chinese explanation."""
    if PER_MINUTE_TEXT in message:
        return TransientError(f"接口 {api} 触发每分钟调用上限：{message}")
    if PER_DAY_TEXT in message:
        return QuotaExhaustedError(
            f"接口 {api} 今日的调用次数已用完（{message}）：该数据集本次停止，"
            f"请在 {_next_midnight()} 之后重新运行，已下载的部分不会重复下载。"
        )
    if PER_HOUR_TEXT in message:
        return QuotaExhaustedError(
            f"接口 {api} 本小时的调用次数已用完（{message}）：该数据集本次停止，请一小时后重新运行。"
        )
    if NO_PERMISSION_TEXT in message:
        needed = f"至少需要 {points} 积分" if points else "积分不足"
        return PermissionDeniedError(
            f"没有接口 {api} 的访问权限（{needed}）：该数据集本次跳过，其他数据集照常下载。"
            f"请提高积分，或从任务组中去掉 {api}。服务器原文：{message}"
        )
    if INVALID_TOKEN_TEXT in message:
        return InvalidTokenError(
            f"Tushare 拒绝了 token（{message}）：请把正确的 token 设置到环境变量 {TOKEN_ENV}。"
        )
    if any(text in message for text in SERVER_FAULT_TEXTS):
        return TransientError(f"接口 {api} 服务器故障：{message}")
    return TushareError(f"接口 {api} 返回错误：{message}")


class TushareClient:
    """Calls Tushare APIs through the `tushare` package at a configurable URL."""

    def __init__(
        self,
        url: str,
        token: str,
        calls_per_minute: Mapping[str, int] | int,
        timeout: float = 30.0,
        *,
        limiter_folder: Path | None = None,
        policy: RetryPolicy | None = None,
        points: Mapping[str, int] | None = None,
        label: str = "",
        watch_pid: int | None = None,
    ) -> None:
        self._api = tushare.pro_api(token, timeout=timeout)
        # The package keeps its endpoint in a name-mangled class attribute and has no setting for it.
        self._api._DataApi__http_url = url.rstrip("/")
        self._limits = calls_per_minute
        self._limiter_folder = limiter_folder
        self._limiters: dict[str, SharedRateLimiter] = {}
        self.policy = policy or RetryPolicy()
        self._points = points or {}
        self.label = label
        # A job whose Snakemake process was killed stops instead of calling on beside the next run.
        self._watch_pid = watch_pid
        self.calls = 0

    def _limiter(self, api: str) -> SharedRateLimiter | None:
        if self._limiter_folder is None:
            return None
        if api not in self._limiters:
            limit = self._limits if isinstance(self._limits, int) else self._limits[api]
            self._limiters[api] = SharedRateLimiter(self._limiter_folder, api, limit)
        return self._limiters[api]

    def _check_parent(self) -> None:
        if self._watch_pid is None:
            return
        try:
            os.kill(self._watch_pid, 0)
        except ProcessLookupError:
            raise TushareError(
                f"{self.label}：Snakemake 主进程（{self._watch_pid}）已退出，本作业停止，不再调用接口。"
            ) from None

    def _call_once(self, api: str, params: Mapping[str, str], fields: list[str]) -> pd.DataFrame:
        self._check_parent()
        limiter = self._limiter(api)
        if limiter is not None:
            limiter.acquire()
        self.calls += 1
        try:
            frame = self._api.query(api, fields=",".join(fields), **params)
        except requests.Timeout as error:
            raise TransientError(f"接口 {api} 请求超时：{error}") from error
        except requests.ConnectionError as error:
            raise TransientError(f"接口 {api} 连接中断：{error}") from error
        except json.JSONDecodeError as error:
            raise TransientError(f"接口 {api} 的响应不是 JSON：{error}") from error
        except Exception as error:  # the client raises a bare Exception(msg) for code != 0
            raise classify(api, str(error), self._points.get(api)) from error
        if frame.empty and len(frame.columns) == 0:
            raise TransientError(f"接口 {api} 返回 HTTP 错误状态（没有数据表）")
        return frame

    def query(self, api: str, params: Mapping[str, str], fields: list[str]) -> pd.DataFrame:
        """Call `api` with `params`, retrying transient failures; return the rows.

        Raises TushareError (or a subclass) when the call cannot succeed.
        """
        failures = 0
        refusals = 0
        while True:
            try:
                return self._call_once(api, params, fields)
            except TransientError as error:
                if PER_MINUTE_TEXT in str(error) and refusals < self.policy.rate_limit_retries:
                    refusals += 1
                    wait = self.policy.rate_limit_wait
                    log.warning(
                        "%s 接口 %s 触发每分钟上限，%.0f 秒后重试：%s",
                        self.label,
                        api,
                        wait,
                        dict(params),
                    )
                    time.sleep(wait)
                    continue
                failures += 1
                if failures > self.policy.retries:
                    raise TushareError(
                        f"{error}（{self.label} 参数 {dict(params)}，已重试 {self.policy.retries} 次仍失败）："
                        "本单元未写入任何数据，下次运行会重新下载它。"
                    ) from error
                wait = self.policy.backoff(failures)
                log.warning(
                    "%s 第 %d/%d 次重试，%.1f 秒后：%s（参数 %s）",
                    self.label,
                    failures,
                    self.policy.retries,
                    wait,
                    error,
                    dict(params),
                )
                time.sleep(wait)
