"""Time in Asia/Shanghai, the `now` override, and each dataset's end date."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def parse_now(value: object) -> datetime:
    """Parse a `now` value (ISO text, or what YAML made of it) as an aware Shanghai time.

    Naive values are read as Asia/Shanghai; aware ones are converted to it.
    Raises ValueError when the value is not an ISO timestamp.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0, 0))
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.strip())
    else:
        raise ValueError(f"not an ISO timestamp: {value!r}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def current_time(override: object | None = None) -> datetime:
    """Return the override parsed by `parse_now`, or the real clock in Asia/Shanghai."""
    if override not in (None, ""):
        return parse_now(override)
    return datetime.now(SHANGHAI)


def yyyymmdd(day: date) -> str:
    return day.strftime("%Y%m%d")


def parse_yyyymmdd(text: str) -> date:
    """Parse `YYYYMMDD`; raise ValueError for anything else."""
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"not a YYYYMMDD date: {text!r}")
    return datetime.strptime(text, "%Y%m%d").date()


def last_published_day(open_days: Sequence[str], now: datetime, publish_time: time) -> str | None:
    """Return the newest open day whose data is final at `now`, or None if none is.

    `open_days` are sorted `YYYYMMDD` strings. Today counts only once the
    Shanghai clock has passed `publish_time`.
    """
    local = now.astimezone(SHANGHAI)
    today = yyyymmdd(local.date())
    if local.time() >= publish_time:
        position = bisect.bisect_right(open_days, today)
    else:
        position = bisect.bisect_left(open_days, today)
    if position == 0:
        return None
    return open_days[position - 1]


def publication_epoch(now: datetime, publish_times: Sequence[time]) -> str:
    """Return a label that changes exactly when some dataset's end date can change.

    Two moments with the same Shanghai date and the same set of publication
    times already passed give the same end dates for every dataset, so the
    plan made at one is valid at the other.
    """
    local = now.astimezone(SHANGHAI)
    passed = sum(1 for moment in sorted(set(publish_times)) if local.time() >= moment)
    return f"{yyyymmdd(local.date())}.{passed}"
