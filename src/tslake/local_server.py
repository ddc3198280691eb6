"""Start and stop the local Tushare-protocol server for `source: sim` and `source: replay` runs."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime

from tslake.config import Settings
from tslake.runctx import SERVER_URL_ENV, server_url_file

log = logging.getLogger(__name__)

STARTUP_TIMEOUT = 120.0
PR_SET_PDEATHSIG = 1


def call_log_path(settings: Settings):
    return settings.state_dir / "logs" / "server-calls.jsonl"


def _stop_with_parent() -> None:
    """Ask Linux to send SIGTERM to the server when Snakemake dies, even by SIGKILL."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_local_server(settings: Settings, now: datetime) -> subprocess.Popen[bytes]:
    """Start `python -m tslake.server` on a free loopback port and publish its URL to jobs.

    The URL goes into the environment (inherited by job processes) and into
    `<data_dir>/.tslake/server.url`.
    """
    state = settings.state_dir
    state.mkdir(parents=True, exist_ok=True)
    port_file = state / "server.port"
    port_file.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "tslake.server",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--now",
        now.isoformat(),
        "--call-log",
        str(call_log_path(settings)),
    ]
    if settings.source == "replay":
        command += ["--replay", str(settings.replay_dir)]
    else:
        command += ["--symbols", str(settings.sim_symbols), "--seed", str(settings.sim_seed)]
    for api, cap in settings.row_caps.items():
        command += ["--row-cap", f"{api}={cap}"]
    for name, moment in settings.publish_times.items():
        command += ["--publish-time", f"{name}={moment.strftime('%H:%M')}"]
    (state / "logs").mkdir(parents=True, exist_ok=True)
    server_log = (state / "logs" / "server.log").open("ab")
    process = subprocess.Popen(
        command, stdout=server_log, stderr=subprocess.STDOUT, preexec_fn=_stop_with_parent
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not port_file.exists():
        if process.poll() is not None:
            raise RuntimeError(
                f"本地 Tushare 服务器启动失败（退出码 {process.returncode}）：详见 {state / 'logs' / 'server.log'}"
            )
        if time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError(
                f"本地 Tushare 服务器 {STARTUP_TIMEOUT:.0f} 秒内未就绪：详见 server.log"
            )
        time.sleep(0.05)
    url = f"http://127.0.0.1:{int(port_file.read_text().strip())}/dataapi"
    os.environ[SERVER_URL_ENV] = url
    server_url_file(settings).write_text(url, encoding="utf-8")
    log.info("本地 Tushare 服务器已启动：%s（source=%s）", url, settings.source)
    return process


def stop_local_server(settings: Settings, process: subprocess.Popen[bytes] | None) -> None:
    """Stop the server started by `start_local_server` and forget its URL."""
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    server_url_file(settings).unlink(missing_ok=True)
    os.environ.pop(SERVER_URL_ENV, None)
