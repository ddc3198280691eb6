"""The log of every call the server received, in memory and optionally as JSON lines."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CallRecord:
    """One call: when it arrived, what it requested and what the server returned.

    ``time`` is the real time of arrival (ISO 8601, Asia/Shanghai), not the server
    clock. ``params`` are the request parameters without ``token`` and
    ``ts_type_name``. ``code`` is 0 on success and the Tushare error code otherwise,
    in which case ``rows`` is 0. ``code`` is None when an injected fault sent no
    Tushare body (an HTTP error status, a body that is not JSON, a reset connection).
    ``fault`` names the kinds of the injected faults that changed the call, joined
    by commas in rule order, and is None for a call no fault changed.
    """

    time: str
    api: str
    params: dict[str, Any]
    fields: Any
    rows: int
    code: int | None
    fault: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the record as a dict; the ``fault`` key is present only when a fault changed the call."""
        record = asdict(self)
        if record["fault"] is None:
            del record["fault"]
        return record


class CallLog:
    """Thread-safe list of CallRecord; each record is also appended to ``path`` if set."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._records: list[CallRecord] = []
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    @property
    def path(self) -> Path | None:
        return self._path

    def record(self, record: CallRecord) -> None:
        line = json.dumps(record.to_dict(), ensure_ascii=False, default=str)
        with self._lock:
            self._records.append(record)
            if self._path is not None:
                with self._path.open("a", encoding="utf-8") as handle:
                    handle.write(line + "\n")

    def records(self) -> list[CallRecord]:
        """Return a copy of the records, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget the in-memory records; the file keeps its lines."""
        with self._lock:
            self._records.clear()
