"""The server's clock in Asia/Shanghai and the newest trading day it may serve."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

from tslake.clock import SHANGHAI
from tslake.clock import parse_now as parse_shanghai

NowSetting = str | datetime | None


def parse_now(value: NowSetting) -> datetime | None:
    """Return ``value`` as an aware Shanghai datetime (see ``tslake.clock.parse_now``), None for real time."""
    if value is None:
        return None
    try:
        return parse_shanghai(value)
    except ValueError:
        raise ValueError(f"无效的时间 {value!r}：应为 ISO 格式，例如 2026-12-04T20:00") from None


class ServerClock:
    """A fixed time that tests can change, or the real time when none is set."""

    def __init__(self, now: NowSetting = None) -> None:
        self._lock = threading.Lock()
        self._fixed = parse_now(now)

    def now(self) -> datetime:
        with self._lock:
            fixed = self._fixed
        return fixed if fixed is not None else datetime.now(SHANGHAI)

    def set(self, now: NowSetting) -> None:
        """Fix the clock at ``now``; None switches back to the real time."""
        parsed = parse_now(now)
        with self._lock:
            self._fixed = parsed

    @property
    def is_fixed(self) -> bool:
        with self._lock:
            return self._fixed is not None


def today_string(now: datetime) -> str:
    """Return the Shanghai date of ``now`` as YYYYMMDD."""
    return now.astimezone(SHANGHAI).strftime("%Y%m%d")


def newest_served_day(now: datetime, publish_time: time | None) -> str:
    """Return the newest calendar day (YYYYMMDD) whose data is published at ``now``.

    Today counts once the Shanghai time of day reaches ``publish_time``; before that
    the newest day is yesterday. Without a publication time, today counts.
    """
    local = now.astimezone(SHANGHAI)
    if publish_time is None or local.time() >= publish_time:
        return local.strftime("%Y%m%d")
    return (local.date() - timedelta(days=1)).strftime("%Y%m%d")
