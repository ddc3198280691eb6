"""Per-API call pacing shared by every process of one run on one host.

Each API has a file `<folder>/<api>.json` with the send times of its calls in
the last minute. A process takes an exclusive `flock` on the file, drops the
times older than the window, and either records a new call or learns how long
to wait. The kernel releases the lock when a process dies, so a killed job
never blocks the others.
"""

from __future__ import annotations

import fcntl
import json
import time
from pathlib import Path

WINDOW_SECONDS = 60.0
# Margin against clock skew between the sender and the server's log.
SAFETY_SECONDS = 0.5


class SharedRateLimiter:
    """Keep the calls of one API, across processes, under `per_minute` in any sliding window."""

    def __init__(self, folder: Path, api: str, per_minute: int, window: float = WINDOW_SECONDS):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{api}.json"
        self.per_minute = per_minute
        self.window = window + SAFETY_SECONDS

    def _reserve(self) -> float:
        """Record a call if the window has room; otherwise return the seconds to wait."""
        with open(self.path, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                handle.seek(0)
                text = handle.read()
                now = time.time()
                sent = [
                    moment
                    for moment in (json.loads(text) if text else [])
                    if now - moment < self.window
                ]
                if len(sent) < self.per_minute:
                    sent.append(now)
                    handle.seek(0)
                    handle.truncate()
                    handle.write(json.dumps(sent))
                    handle.flush()
                    return 0.0
                return self.window - (now - min(sent)) + 0.01
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def acquire(self) -> float:
        """Block until a call may be sent; return the seconds spent waiting."""
        waited = 0.0
        while True:
            delay = self._reserve()
            if delay <= 0:
                return waited
            time.sleep(delay)
            waited += delay
