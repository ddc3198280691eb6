"""The one place that talks to Tushare: the real `tushare` client, pointed at a URL.

It paces calls to the configured per-minute limit, waits out the per-minute
limit when the server reports it anyway, and turns every other failure into
`TushareError`. An empty table is only returned when the server really sent
an empty table: the `tushare` client returns an empty frame without columns
on HTTP errors, and that case raises here.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Mapping

import pandas as pd
import tushare

log = logging.getLogger(__name__)

TOKEN_ENV = "TUSHARE_TOKEN"
# Token sent to the local server, which accepts any non-empty token.
LOCAL_TOKEN = "local-server"
PER_MINUTE_TEXT = "每分钟最多访问该接口"
RATE_LIMIT_RETRIES = 5


class TushareError(RuntimeError):
    """A call that failed; the message is meant for the user."""


class RateLimiter:
    """Keep calls to one API under `per_minute` in any sliding 60-second window.

    NOTE: the window is per process. Fetch jobs running at the same time each
    get the full budget, so the server can see up to `tushare_api` (the
    profile's concurrency cap) times the limit; the client then waits
    out the server's 40203 response.
    """

    def __init__(self, per_minute: int, window: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window = window
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                if len(self._sent) < self.per_minute:
                    self._sent.append(now)
                    return
                time.sleep(self.window - (now - self._sent[0]) + 0.01)


def read_token(source: str) -> str:
    """Return the token for `source`; raise TushareError when a real token is missing."""
    if source != "tushare":
        return LOCAL_TOKEN
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise TushareError(
            f"未设置环境变量 {TOKEN_ENV}：请先执行 export {TOKEN_ENV}=你的token，"
            "或用 --config source=sim 在本地模拟市场上试运行。"
        )
    return token


class TushareClient:
    """Calls Tushare APIs through the `tushare` package at a configurable URL."""

    def __init__(
        self,
        url: str,
        token: str,
        calls_per_minute: Mapping[str, int] | int,
        timeout: float = 30.0,
    ) -> None:
        self._api = tushare.pro_api(token, timeout=timeout)
        # The package keeps its endpoint in a name-mangled class attribute and has no setting for it.
        self._api._DataApi__http_url = url.rstrip("/")
        self._limits = calls_per_minute
        self._limiters: dict[str, RateLimiter] = {}
        self.calls = 0

    def _limiter(self, api: str) -> RateLimiter:
        if api not in self._limiters:
            limit = self._limits if isinstance(self._limits, int) else self._limits[api]
            self._limiters[api] = RateLimiter(limit)
        return self._limiters[api]

    def query(self, api: str, params: Mapping[str, str], fields: list[str]) -> pd.DataFrame:
        """Call `api` once with `params`; return its rows with the requested columns.

        Raises TushareError on any failure, including HTTP errors that the
        `tushare` package would turn into an empty table.
        """
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            self._limiter(api).wait()
            self.calls += 1
            try:
                frame = self._api.query(api, fields=",".join(fields), **params)
            except Exception as error:  # the client raises a bare Exception(msg)
                message = str(error)
                if PER_MINUTE_TEXT in message and attempt < RATE_LIMIT_RETRIES:
                    log.warning("接口 %s 触发每分钟限流，等待 60 秒后重试：%s", api, params)
                    time.sleep(60)
                    continue
                raise TushareError(
                    f"调用接口 {api} 失败（参数 {dict(params)}）：{message}"
                ) from error
            if frame.empty and len(frame.columns) == 0:
                raise TushareError(
                    f"调用接口 {api} 失败（参数 {dict(params)}）：服务器返回 HTTP 错误，没有数据表。"
                )
            return frame
        raise AssertionError("unreachable")
