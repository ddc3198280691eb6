"""The one place that computes coverage: which (symbol, trading day) pairs the lake has asked for.

Coverage comes from the parts' own metadata, never from their rows, so a
suspended stock's day counts as covered once a part records that it was requested.
Announcement datasets (statements, dividends) are covered per symbol up to an
as-of calendar day: every row announced from the start date to that day is on disk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from tslake.clock import parse_yyyymmdd, yyyymmdd
from tslake.parts import PartInfo, list_part_files, read_part_info


def read_parts(data_dir: Path, dataset: str) -> list[PartInfo]:
    """Return the live parts of `dataset`: every file except those a period file replaced."""
    infos = [read_part_info(path) for path in list_part_files(data_dir, dataset)]
    replaced = {
        name for info in infos if info.scope == "period" for name in info.notes.get("replaces", [])
    }
    return [info for info in infos if info.path.name not in replaced]


def covered_matrix(parts: Iterable[PartInfo], codes: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Return a bool matrix (len(codes) x len(days)): True where some part covers the pair.

    `codes` and `days` are sorted arrays of strings; codes a part names that
    are not in `codes` are ignored.
    """
    covered = np.zeros((len(codes), len(days)), dtype=bool)
    if len(codes) == 0 or len(days) == 0:
        return covered
    for part in parts:
        for segment in part.segments:
            low = np.searchsorted(days, segment.start, side="left")
            high = np.searchsorted(days, segment.end, side="right")
            if low >= high:
                continue
            if segment.symbols is None:
                covered[:, low:high] = True
                continue
            wanted = np.array(segment.symbols, dtype=object)
            positions = np.searchsorted(codes, wanted)
            inside = positions < len(codes)
            positions = positions[inside]
            hits = positions[codes[positions] == wanted[inside]]
            covered[hits, low:high] = True
    return covered


@lru_cache(maxsize=65536)
def next_day(day: str) -> str:
    """Return the calendar day after `day` (both YYYYMMDD)."""
    return yyyymmdd(parse_yyyymmdd(day) + timedelta(days=1))


def _merge_spans(spans: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Merge calendar-day spans that overlap or touch into disjoint sorted spans."""
    merged: list[tuple[str, str]] = []
    for start, end in sorted(spans):
        if merged and start <= next_day(merged[-1][1]):
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def covered_spans(
    parts: Iterable[PartInfo], codes: Iterable[str]
) -> dict[str, list[tuple[str, str]]]:
    """Return, per code, its covered calendar-day spans: disjoint, sorted, touching ones merged.

    Whole-market segments (one announcement day of every stock) count for every code.
    """
    market: list[tuple[str, str]] = []
    by_code: dict[str, list[tuple[str, str]]] = {}
    for part in parts:
        for segment in part.segments:
            span = (segment.start, segment.end)
            if segment.symbols is None:
                market.append(span)
            else:
                for code in segment.symbols:
                    by_code.setdefault(code, []).append(span)
    market = _merge_spans(market)
    return {code: _merge_spans(market + by_code.get(code, [])) for code in codes}


def asof_from_spans(spans: list[tuple[str, str]], start: str) -> str | None:
    """Return the end of the span that contains `start`, or None if no span does."""
    for first, last in spans:
        if first <= start <= last:
            return last
    return None


def asof_dates(parts: Iterable[PartInfo], codes: Iterable[str], start: str) -> dict[str, str]:
    """Return, per code, the last calendar day up to which every day from `start` is covered.

    Codes whose coverage does not reach back to `start` are left out.
    """
    result: dict[str, str] = {}
    for code, spans in covered_spans(parts, codes).items():
        day = asof_from_spans(spans, start)
        if day is not None:
            result[code] = day
    return result


def parts_fingerprint(data_dir: Path, datasets: Iterable[str]) -> str:
    """Return a short hash of the part files' names and sizes, without opening them.

    Deleting, adding or replacing a part changes it, so a plan named after it
    is made again whenever the lake changed.
    """
    replaced_path = data_dir / ".tslake" / "replaced.json"
    replaced = (
        json.loads(replaced_path.read_text(encoding="utf-8")) if replaced_path.exists() else {}
    )
    digest = hashlib.sha256()
    for dataset in sorted(datasets):
        # Files a period file replaced are ignored, so deleting them later changes nothing.
        gone = set(replaced.get(dataset, []))
        for path in list_part_files(data_dir, dataset):
            if path.name not in gone:
                digest.update(f"{dataset}/{path.name}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()[:12]
