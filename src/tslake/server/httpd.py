"""The HTTP side of the local Tushare server and its Python API: start_server and RunningServer."""

from __future__ import annotations

import logging
import os
import socket
import socketserver
import struct
import tempfile
import threading
from collections.abc import Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from tslake.server.app import TushareApp
from tslake.server.calllog import CallRecord
from tslake.server.clock import NowSetting
from tslake.server.config import ServerConfig, loopback_address
from tslake.server.faults import FaultRule
from tslake.server.market import SimMarket
from tslake.server.protocol import Reply
from tslake.server.replay import ReplaySource
from tslake.server.source import MarketSource

logger = logging.getLogger(__name__)

# Request bodies are a few hundred bytes; anything this large is not a Tushare call.
MAX_BODY_BYTES = 1 << 20

# How often serve_forever checks for shutdown; stop() waits up to this long.
SHUTDOWN_POLL_SECONDS = 0.05

# SO_LINGER on with a timeout of 0: close() drops the connection with a TCP reset.
LINGER_RESET = struct.pack("ii", 1, 0)


class _TushareHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer bound to one loopback address, serving one TushareApp."""

    daemon_threads = True

    def __init__(self, address: str, port: int, app: TushareApp) -> None:
        self.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.app = app
        super().__init__((address, port), _TushareRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's fully qualified name; a loopback
        # server needs no name, so skip that lookup.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])


class _TushareRequestHandler(BaseHTTPRequestHandler):
    """Respond to POST on any path with the app's response body; other methods get 405."""

    server: _TushareHTTPServer
    server_version = "tslake-tushare/1"

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "Invalid Content-Length")
            return
        if length > MAX_BODY_BYTES:
            self.send_error(413, "Request body too large")
            return
        body = self.rfile.read(length) if length > 0 else b""
        reply = self.server.app.handle(body)
        if reply.reset:
            self._reset_connection()
            return
        self._send_reply(reply)

    def _send_reply(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError) as error:
            # A client that timed out during an injected delay has gone away.
            self.close_connection = True
            logger.info("客户端 %s 已断开，响应未送达：%s", self.address_string(), error)

    def _reset_connection(self) -> None:
        """Close the connection with a TCP reset and send nothing."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
        # rfile still holds a reference to the socket, so it closes, and sends the reset,
        # when the handler's finish() closes rfile.
        self.connection.close()

    def do_GET(self) -> None:
        self._method_not_allowed()

    def do_PUT(self) -> None:
        self._method_not_allowed()

    def do_DELETE(self) -> None:
        self._method_not_allowed()

    def _method_not_allowed(self) -> None:
        self.send_response(405)
        self.send_header("Allow", "POST")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


class RunningServer:
    """A local Tushare server running in a background thread.

    Point the tushare client at ``url``. ``stop()`` (or leaving the ``with`` block)
    shuts it down.
    """

    def __init__(
        self,
        httpd: _TushareHTTPServer,
        thread: threading.Thread,
        app: TushareApp,
    ) -> None:
        self._httpd = httpd
        self._thread = thread
        self.app = app
        self.host = str(httpd.server_address[0])
        self.port = int(httpd.server_address[1])
        url_host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{url_host}:{self.port}/dataapi"

    @property
    def source(self) -> MarketSource:
        return self.app.source

    @property
    def calls(self) -> list[CallRecord]:
        """A copy of the in-memory call log, oldest call first."""
        return self.app.call_log.records()

    def clear_calls(self) -> None:
        self.app.call_log.clear()

    def add_fault(self, rule: Mapping[str, Any]) -> FaultRule:
        """Add a fault rule (see ``tslake.server.faults``) for the calls from now on.

        Returns the live rule, whose ``seen`` and ``affected`` counters follow the
        calls. Raises FaultError, a ValueError, for an invalid rule.
        """
        return self.app.add_fault(rule)

    def clear_faults(self) -> None:
        """Remove every fault rule, including those of the config."""
        self.app.clear_faults()

    @property
    def faults(self) -> list[FaultRule]:
        """The fault rules in force, oldest first."""
        return self.app.faults.rules()

    @property
    def now(self) -> datetime:
        return self.app.clock.now()

    def set_now(self, now: NowSetting) -> None:
        """Set the server clock (ISO text read in Asia/Shanghai); None follows the real time."""
        self.app.clock.set(now)

    def table(self, name: str) -> pd.DataFrame:
        """Return everything the server would serve of ``name`` at its current clock.

        Row caps and rate limits do not apply. ``source.table(name)`` returns the
        whole table regardless of the clock.
        """
        return self.app.visible_table(name)

    def stop(self) -> None:
        """Stop serving and close the listening socket; safe to call more than once."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join()
            self._httpd.server_close()
            logger.info("本地 Tushare 服务已停止：%s", self.url)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def build_source(config: ServerConfig) -> MarketSource:
    """Return the replay source of ``config.replay`` if set, else the simulated market."""
    if config.replay is not None:
        return ReplaySource.load(config.replay)
    return SimMarket(config.symbols, config.seed)


def start_server(
    config: ServerConfig | None = None, source: MarketSource | None = None
) -> RunningServer:
    """Start a server in a background thread and return once it accepts connections.

    ``source`` replaces the source that ``config`` describes, so several servers can
    share one market. Raises ValueError for an invalid config and OSError when the
    port cannot be bound.
    """
    config = config if config is not None else ServerConfig()
    config.validate()
    address = loopback_address(config.host)
    if source is None:
        source = build_source(config)
    if config.port_file is not None:
        # A parent that waits for the file must not read the port of an earlier run.
        config.port_file.unlink(missing_ok=True)
    app = TushareApp(source, config)
    httpd = _TushareHTTPServer(address, config.port, app)
    thread = threading.Thread(
        target=httpd.serve_forever,
        kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
        name=f"tushare-server-{httpd.server_address[1]}",
        daemon=True,
    )
    thread.start()
    server = RunningServer(httpd, thread, app)
    if config.port_file is not None:
        write_port_file(config.port_file, server.port)
    return server


def write_port_file(path: Path, port: int) -> None:
    """Write ``port`` and a newline to ``path`` atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(f"{port}\n")
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        raise
