"""Progress lines of a long fetch job, logged at a steady pace while the job runs.

A background thread logs one Chinese line every `interval` seconds: planned
requests done out of the total, rows received, API calls per minute and the
estimated time left. A job that ends within the first interval logs none.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

log = logging.getLogger(__name__)

Clock = Callable[[], float]


def format_duration(seconds: float) -> str:
    """Return a duration as Chinese hours, minutes and seconds, e.g. "1 分 05 秒"."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} 小时 {minutes:02d} 分"
    if minutes:
        return f"{minutes} 分 {secs:02d} 秒"
    return f"{secs} 秒"


class FetchProgress:
    """Counters of one fetch job and the thread that logs them every `interval` seconds.

    `done` counts planned requests and `calls` counts API calls sent. One request
    can take several calls, because a response at the row cap is split and a
    failed call is retried.
    """

    def __init__(
        self,
        label: str,
        total: int,
        interval: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.interval = interval
        self._clock = clock
        self._started = clock()
        self.done = 0
        self.rows = 0
        self.calls = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def update(self, done: int, rows: int, calls: int) -> None:
        """Record the requests finished, rows received and API calls sent so far."""
        self.done = done
        self.rows = rows
        self.calls = calls

    def line(self) -> str:
        """Return the progress line for the counters at the current clock."""
        elapsed = max(self._clock() - self._started, 1e-9)
        share = self.done / self.total if self.total else 1.0
        per_minute = self.calls / elapsed * 60
        text = (
            f"{self.label}：已完成 {self.done}/{self.total} 次请求（{share:.0%}），"
            f"已收到 {self.rows} 行，实际调用 {self.calls} 次，每分钟 {per_minute:.1f} 次，"
            f"已用 {format_duration(elapsed)}"
        )
        if self.done == 0:
            return text + "，剩余时间尚无法估计"
        left = elapsed / self.done * (self.total - self.done)
        return text + f"，预计还需 {format_duration(left)}"

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            log.info("%s", self.line())

    def __enter__(self) -> FetchProgress:
        self._thread = threading.Thread(target=self._run, name="fetch-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
