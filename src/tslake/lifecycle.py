"""Hooks of the main Snakemake process: run start, success and failure."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from tslake.clock import SHANGHAI
from tslake.compaction import recover, remove_replaced
from tslake.config import Settings
from tslake.local_server import start_local_server, stop_local_server
from tslake.parts import PartError
from tslake.planning import read_plan
from tslake.report import find_failures, print_run_summary, rebuild_after_failure
from tslake.runctx import record_source
from tslake.runlock import RunLockedError, acquire_run_lock, remove_stale_temporaries
from tslake.runreport import (
    LATEST,
    RUN_REPORT,
    build_report,
    record_run_start,
    reports_dir,
    save_report,
    to_markdown,
)
from tslake.tushare_api import TushareError, read_token
from tslake.universe import ReferenceMissingError, load_universe


class RunStartError(RuntimeError):
    """The run cannot start; the message is meant for the user."""


@dataclass
class RunHandles:
    """Resources the run holds until it ends: the run lock and the local server, if any."""

    lock: IO[str]
    server: subprocess.Popen[bytes] | None = None
    started: float = field(default_factory=time.time)
    now: datetime | None = None


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
    handles = RunHandles(lock, now=now)
    record_run_start(settings, handles.started)
    if settings.source != "tushare":
        handles.server = start_local_server(settings, now)
    return handles


def finish_run(
    handles: RunHandles | None, settings: Settings, plan_dir: str, run_record: str
) -> None:
    """Stop the server; print and save the report that this run's report_run job wrote.

    Without such a report (a run of another target), print the short summary instead.
    """
    if handles is None:
        print_run_summary(settings, plan_dir, run_record)
        return
    stop_local_server(settings, handles.server)
    report_file = reports_dir(settings) / RUN_REPORT
    if report_file.exists() and report_file.stat().st_mtime >= handles.started:
        text = report_file.read_text(encoding="utf-8")
        saved = save_report(settings, Path(plan_dir).name, text)
        print(text, flush=True)
        print(f"报告已保存：{saved}（最新一份总在 {reports_dir(settings) / LATEST}）", flush=True)
    else:
        print_run_summary(settings, plan_dir, run_record)


def fail_run(handles: RunHandles | None, settings: Settings, plan_dir: str, logs_dir: str) -> None:
    """Stop the server and, if this run held the lock, rebuild the catalog over what was
    downloaded, then print and save a report of what failed."""
    if handles is None:
        return
    stop_local_server(settings, handles.server)
    failures = find_failures(settings, plan_dir, logs_dir, handles.started)
    rebuilt = rebuild_after_failure(settings, plan_dir)
    plan_path = Path(plan_dir) / "plan.json"
    document = read_plan(Path(plan_dir)) if plan_path.exists() else None
    try:
        universe = load_universe(settings.data_dir)
    except (ReferenceMissingError, PartError):
        universe = None
    finished = time.time()
    report = build_report(
        settings,
        handles.now or datetime.now(SHANGHAI),
        Path(plan_dir).name,
        document=document,
        record=None,
        started=handles.started,
        finished=finished,
        universe=universe,
        failures=failures,
        closing=[rebuilt] if rebuilt else [],
    )
    text = to_markdown(report)
    saved = save_report(settings, Path(plan_dir).name, text, finished)
    print(text, flush=True)
    print(f"报告已保存：{saved}（最新一份总在 {reports_dir(settings) / LATEST}）", flush=True)
