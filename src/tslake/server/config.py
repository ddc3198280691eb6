"""Settings of one local Tushare server and their validation."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any

from tslake.registry import DATASETS
from tslake.server.clock import parse_now
from tslake.server.faults import parse_rules
from tslake.server.market import DEFAULT_SEED, DEFAULT_SYMBOLS
from tslake.server.source import SERVED_APIS


@dataclass
class ServerConfig:
    """Settings of one server; every field has a working default.

    ``row_caps``, ``rate_limits`` and ``publish_times`` override per API. Row caps and
    publication times default to the registry's ``row_cap`` and ``publish_time``.
    ``rate_limit`` is the per-minute limit of every API without an entry in
    ``rate_limits``; None means unlimited. ``now`` fixes the clock (ISO text, read in
    Asia/Shanghai); None follows the real time. With ``token`` set, only that token is
    accepted; otherwise any non-empty token is. ``replay`` serves recorded tables from
    that directory in place of the simulated market. ``faults`` lists fault rules in
    the format that ``tslake.server.faults`` describes.
    """

    host: str = "127.0.0.1"
    port: int = 0
    symbols: int = DEFAULT_SYMBOLS
    seed: int = DEFAULT_SEED
    replay: Path | None = None
    now: str | datetime | None = None
    token: str | None = None
    row_caps: dict[str, int] = field(default_factory=dict)
    rate_limit: int | None = None
    rate_limits: dict[str, int] = field(default_factory=dict)
    publish_times: dict[str, time | str] = field(default_factory=dict)
    call_log: Path | None = None
    port_file: Path | None = None
    faults: list[Mapping[str, Any]] = field(default_factory=list)

    def validate(self) -> None:
        """Raise ValueError, in Chinese and naming the setting, for an invalid value."""
        loopback_address(self.host)
        if not 0 <= self.port <= 65535:
            raise ValueError(f"端口必须在 0 到 65535 之间，而不是 {self.port}")
        if self.symbols < 1:
            raise ValueError(f"股票数量必须至少为 1，而不是 {self.symbols}")
        parse_now(self.now)
        for api, cap in self.row_caps.items():
            check_api(api, "单次行数上限")
            if cap < 1:
                raise ValueError(f"接口 {api} 的单次行数上限必须至少为 1，而不是 {cap}")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError(f"每分钟调用上限必须至少为 1，而不是 {self.rate_limit}")
        for api, limit in self.rate_limits.items():
            check_api(api, "每分钟调用上限")
            if limit < 1:
                raise ValueError(f"接口 {api} 的每分钟调用上限必须至少为 1，而不是 {limit}")
        for api, value in self.publish_times.items():
            check_api(api, "发布时间")
            parse_clock_time(value)
        parse_rules(self.faults)

    def row_cap(self, api: str) -> int:
        return self.row_caps.get(api, DATASETS[api].row_cap)

    def publish_time(self, api: str) -> time | None:
        if api in self.publish_times:
            return parse_clock_time(self.publish_times[api])
        return DATASETS[api].publish_time


def check_api(api: str, setting: str) -> None:
    """Raise ValueError unless ``api`` is served; ``setting`` names the setting in the message."""
    if api not in SERVED_APIS:
        raise ValueError(f"{setting}：未知接口 {api!r}；可用的接口：{', '.join(SERVED_APIS)}")


def parse_clock_time(value: time | str) -> time:
    """Return ``value`` as a time of day; text is HH:MM or HH:MM:SS."""
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"无效的时刻 {value!r}：应为 HH:MM，例如 17:00") from None


def loopback_address(host: str) -> str:
    """Return the address to bind for ``host``; raise ValueError unless it is a loopback address.

    ``localhost`` means 127.0.0.1. The server never listens on other interfaces.
    """
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"无效的监听地址 {host!r}：只能使用本机回环地址，例如 127.0.0.1") from None
    if not address.is_loopback:
        raise ValueError(
            f"拒绝监听 {host}：本地 Tushare 服务只能绑定本机回环地址（127.0.0.1 或 ::1）"
        )
    return str(address)
