"""Per-API limit on calls per minute, counted in a sliding 60-second window."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

WINDOW_SECONDS = 60.0


class RateLimiter:
    """Admit at most ``limit`` calls of one API in any 60-second window.

    ``default`` applies to every API without an entry in ``per_api``; None means no
    limit. Rejected calls are not counted, so a client that waits for the window to
    pass is admitted again.
    """

    def __init__(
        self,
        default: int | None = None,
        per_api: Mapping[str, int] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._default = default
        self._per_api = dict(per_api or {})
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._admitted: dict[str, deque[float]] = {}

    def limit_for(self, api: str) -> int | None:
        return self._per_api.get(api, self._default)

    def acquire(self, api: str) -> int | None:
        """Count one call of ``api``; return the exceeded limit if it is rejected, else None."""
        limit = self.limit_for(api)
        if limit is None:
            return None
        now = self._monotonic()
        with self._lock:
            admitted = self._admitted.setdefault(api, deque())
            while admitted and now - admitted[0] >= WINDOW_SECONDS:
                admitted.popleft()
            if len(admitted) >= limit:
                return limit
            admitted.append(now)
        return None
