"""One run at a time per data folder: an advisory lock held by the main Snakemake process.

The kernel drops a `flock` when its process dies, so a run killed with
SIGKILL never leaves a stale lock behind (unlike Snakemake's own lock files,
which is why the profile turns those off).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path
from typing import IO


class RunLockedError(RuntimeError):
    """Another run holds the lock of this data folder."""


def acquire_run_lock(state_dir: Path) -> IO[str]:
    """Take the run lock or raise RunLockedError at once; keep the returned handle open."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "run.lock"
    handle = open(path, "a+", encoding="utf-8")  # held open for the whole run
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "未知"
        handle.close()
        raise RunLockedError(
            f"另一个运行正在使用数据目录 {state_dir.parent}（进程 {owner}）：本次运行已退出。"
            "等它结束后再运行即可。"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def remove_stale_temporaries(data_dir: Path) -> list[Path]:
    """Delete temporary files that a killed run left in the data folder; return them.

    Call only while holding the run lock, so no live writer owns them.
    """
    removed = []
    if not data_dir.is_dir():
        return removed
    folders = [data_dir] + [entry for entry in data_dir.iterdir() if entry.is_dir()]
    for folder in folders:
        for entry in folder.iterdir():
            if not (entry.name.startswith(".") and entry.name.endswith(".tmp")):
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed
