"""Command line of the local Tushare server: ``python -m tslake.server``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from tslake.server.clock import parse_now
from tslake.server.config import ServerConfig, check_api, loopback_address, parse_clock_time
from tslake.server.faults import FaultError, read_rules_file
from tslake.server.httpd import start_server
from tslake.server.market import DEFAULT_SEED, DEFAULT_SYMBOLS
from tslake.server.replay import ReplayError

logger = logging.getLogger("tslake.server")

# How often the main thread checks for a stop signal, in seconds.
STOP_POLL_SECONDS = 0.2


def _loopback_host(value: str) -> str:
    try:
        loopback_address(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


def _api_value(text: str, what: str) -> tuple[str, str]:
    api, separator, value = text.partition("=")
    if not separator or not api or not value:
        raise argparse.ArgumentTypeError(f"{what} 应写成 接口=值，例如 daily=6000，而不是 {text!r}")
    try:
        check_api(api, what)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return api, value


def _positive(value: str, what: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} 必须是正整数，而不是 {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{what} 必须是正整数，而不是 {value!r}")
    return number


def _row_cap(text: str) -> tuple[str, int]:
    api, value = _api_value(text, "--row-cap")
    return api, _positive(value, "--row-cap")


def _rate_limit(text: str) -> tuple[str | None, int]:
    """Parse ``N`` (every API) or ``API=N`` (one API)."""
    if "=" not in text:
        return None, _positive(text, "--rate-limit")
    api, value = _api_value(text, "--rate-limit")
    return api, _positive(value, "--rate-limit")


def _publish_time(text: str) -> tuple[str, str]:
    api, value = _api_value(text, "--publish-time")
    try:
        parse_clock_time(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return api, value


def _now(text: str) -> str:
    try:
        parse_now(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _faults_file(text: str) -> list[dict[str, Any]]:
    try:
        return read_rules_file(Path(text))
    except FaultError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tslake.server",
        # Lines are broken by hand: argparse wraps by characters, and Chinese ones are wide.
        description=(
            "在本机回环地址上运行一个 Tushare Pro 协议的本地服务，\n"
            "提供模拟行情或回放录制的真实数据：\n"
            "stock_basic、trade_cal、daily、adj_factor、daily_basic、suspend_d、\n"
            "income、balancesheet、cashflow、fina_indicator、dividend、disclosure_date。\n"
            "收到 SIGTERM 或 SIGINT 后停止并以 0 退出。"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    network = parser.add_argument_group("监听")
    network.add_argument(
        "--host",
        type=_loopback_host,
        default="127.0.0.1",
        help="监听地址，只允许本机回环地址（默认 127.0.0.1）",
    )
    network.add_argument(
        "--port", type=int, default=0, help="监听端口；0 表示任选一个空闲端口（默认 0）"
    )
    network.add_argument(
        "--port-file",
        type=Path,
        help="开始监听后把实际端口号原子地写入此文件，供父进程等待",
    )

    data = parser.add_argument_group("数据来源")
    data.add_argument(
        "--symbols",
        type=lambda value: _positive(value, "--symbols"),
        default=DEFAULT_SYMBOLS,
        help=f"模拟市场的股票数量（默认 {DEFAULT_SYMBOLS}）",
    )
    data.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"模拟市场的随机种子；种子和股票数量相同则数据相同（默认 {DEFAULT_SEED}）",
    )
    data.add_argument("--replay", type=Path, help="回放此目录下录制的真实数据，而不是模拟行情")

    behaviour = parser.add_argument_group("接口行为")
    behaviour.add_argument(
        "--now",
        type=_now,
        help=(
            "固定服务时钟，ISO 格式，按北京时间（Asia/Shanghai）理解，"
            "例如 2026-12-04T20:00；默认用当前真实时间"
        ),
    )
    behaviour.add_argument("--token", help="只接受这个 token；不设则接受任何非空 token")
    behaviour.add_argument(
        "--row-cap",
        type=_row_cap,
        action="append",
        default=[],
        metavar="API=N",
        help="某接口单次返回的最大行数，超出时丢弃最旧的行（可重复；默认取数据集登记表）",
    )
    behaviour.add_argument(
        "--rate-limit",
        type=_rate_limit,
        action="append",
        default=[],
        metavar="N|API=N",
        help="每分钟调用上限：N 适用于所有接口，API=N 只适用于一个接口（可重复；默认不限）",
    )
    behaviour.add_argument(
        "--publish-time",
        type=_publish_time,
        action="append",
        default=[],
        metavar="API=HH:MM",
        help=(
            "某接口当天数据的发布时刻（北京时间），在此之前只提供到前一天的数据；"
            "财务接口按登记表的滞后天数顺延，例如公告日 D 的财报在 D+1 的此时刻后可见"
            "（可重复；默认取数据集登记表）"
        ),
    )

    faults = parser.add_argument_group("故障注入")
    faults.add_argument(
        "--faults",
        type=_faults_file,
        action="append",
        default=[],
        metavar="FILE",
        help=(
            "从此 JSON（.json）或 YAML 文件读取故障规则列表，让服务按规则超时、断开连接、"
            "返回 HTTP 错误或错误码、改变表结构或数据（可重复；规则格式见 "
            "tslake.server.faults 模块说明）"
        ),
    )

    logs = parser.add_argument_group("日志")
    logs.add_argument(
        "--call-log", type=Path, help="把每次调用追加为一行 JSON 写入此文件（不含 token）"
    )
    return parser


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    rate_limit = None
    rate_limits: dict[str, int] = {}
    for api, limit in args.rate_limit:
        if api is None:
            rate_limit = limit
        else:
            rate_limits[api] = limit
    return ServerConfig(
        host=args.host,
        port=args.port,
        symbols=args.symbols,
        seed=args.seed,
        replay=args.replay,
        now=args.now,
        token=args.token,
        row_caps=dict(args.row_cap),
        rate_limit=rate_limit,
        rate_limits=rate_limits,
        publish_times=dict(args.publish_time),
        call_log=args.call_log,
        port_file=args.port_file,
        faults=[rule for rules in args.faults for rule in rules],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until SIGTERM or SIGINT; return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = config_from_args(args)

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("收到信号 %s，正在停止", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    try:
        server = start_server(config)
    except (ValueError, ReplayError) as error:
        logger.error("无法启动本地 Tushare 服务：%s", error)
        return 2
    except OSError as error:
        logger.error("无法在 %s:%s 上监听：%s", config.host, config.port, error)
        return 1

    clock = f"固定时钟 {server.now.isoformat()}" if server.app.clock.is_fixed else "真实时钟"
    logger.info(
        "本地 Tushare 服务已启动：%s（%s，%s）", server.url, server.source.description, clock
    )
    with server:
        while not stop.wait(STOP_POLL_SECONDS):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
