"""Hooks of the main Snakemake process: run start, success and failure."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from tslake.compaction import recover, remove_replaced
from tslake.config import Settings
from tslake.local_server import start_local_server, stop_local_server
from tslake.report import print_run_summary, report_failed_run
from tslake.runctx import record_source
from tslake.runlock import RunLockedError, acquire_run_lock, remove_stale_temporaries
from tslake.tushare_api import TushareError, read_token


class RunStartError(RuntimeError):
    """The run cannot start; the message is meant for the user."""


@dataclass
class RunHandles:
    """Resources the run holds until it ends: the run lock and the local server, if any."""

    lock: IO[str]
    server: subprocess.Popen[bytes] | None = None
    started: float = field(default_factory=time.time)


def begin_run(settings: Settings, now: datetime) -> RunHandles:
    """Take the run lock, clean up after a killed run, check the token, start the local server."""
    try:
        lock = acquire_run_lock(settings.state_dir)
    except RunLockedError as error:
        raise RunStartError(str(error)) from None
    # A compaction killed after its journal was written is finished first; its temporary
    # files are then no longer temporary.
    recover(settings.data_dir)
    remove_stale_temporaries(settings.data_dir)
    remove_replaced(settings.data_dir)
    try:
        read_token(settings.source)
    except TushareError as error:
        lock.close()
        raise RunStartError(str(error)) from None
    record_source(settings)
    handles = RunHandles(lock)
    if settings.source != "tushare":
        handles.server = start_local_server(settings, now)
    return handles


def finish_run(
    handles: RunHandles | None, settings: Settings, plan_dir: str, run_record: str
) -> None:
    if handles is not None:
        stop_local_server(settings, handles.server)
    print_run_summary(settings, plan_dir, run_record)


def fail_run(handles: RunHandles | None, settings: Settings, plan_dir: str, logs_dir: str) -> None:
    """Stop the server and, if this run held the lock, report what failed."""
    if handles is None:
        return
    stop_local_server(settings, handles.server)
    report_failed_run(settings, plan_dir, logs_dir, handles.started)
