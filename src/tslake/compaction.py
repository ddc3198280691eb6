"""Merge small parts into period files: one per closed year, per closed month of this year,
and one for the current month once it has several small parts.

Period files are sorted by (ts_code, date) with 64k-row groups, so one symbol's
history and one day's cross section each touch few row groups. A period file
keeps the coverage of everything it merged, clipped to its period, and lists the
files it replaces in its metadata.

Atomicity: all new period files are first written under temporary names. Then a
journal naming the renames is written with one atomic rename, the renames are
applied, and the journal is removed. A run killed before the journal was written
leaves only temporary files, which the next start removes. A run killed after it is
finished by `recover` at the next start. Replaced files stay on disk, ignored, until
the run that replaced them has swapped in its new catalog, so a reader of the
previous catalog keeps valid files for the whole run.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
import os
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tslake.coverage import read_parts
from tslake.parts import PartInfo, Segment, write_part
from tslake.registry import DATASETS, Dataset

log = logging.getLogger(__name__)

# Small parts of the current month are merged once there are this many.
OPEN_MONTH_TRIGGER = 5
JOURNAL_NAME = "compaction-journal.json"
UNDATED = "19000101"


@dataclass(frozen=True)
class Period:
    """A year (`2020`) or a month (`202406`) and its inclusive date range."""

    label: str

    @property
    def start(self) -> str:
        return self.label + "0101" if len(self.label) == 4 else self.label + "01"

    @property
    def end(self) -> str:
        if len(self.label) == 4:
            return self.label + "1231"
        last = calendar.monthrange(int(self.label[:4]), int(self.label[4:]))[1]
        return f"{self.label}{last:02d}"


def period_of(day: str, today: str) -> Period:
    """Return the period a day belongs to: its year if closed, else its month."""
    if day[:4] < today[:4]:
        return Period(day[:4])
    return Period(day[:6])


def _periods_of_segments(segments: tuple[Segment, ...], today: str) -> set[Period]:
    periods: set[Period] = set()
    for segment in segments:
        year = int(segment.start[:4])
        while year <= int(segment.end[:4]):
            if str(year) < today[:4]:
                periods.add(Period(str(year)))
            else:
                first = segment.start[:6] if str(year) == segment.start[:4] else f"{year}01"
                last = segment.end[:6] if str(year) == segment.end[:4] else f"{year}12"
                month = int(first[4:])
                while f"{year}{month:02d}" <= last:
                    periods.add(Period(f"{year}{month:02d}"))
                    month += 1
            year += 1
    return periods


def _clip(segments: list[Segment], period: Period) -> list[Segment]:
    """Intersect segments with a period and merge those with equal ranges."""
    by_range: dict[tuple[str, str], set[str] | None] = {}
    for segment in segments:
        start, end = max(segment.start, period.start), min(segment.end, period.end)
        if start > end:
            continue
        key = (start, end)
        if segment.symbols is None or by_range.get(key, set()) is None:
            by_range[key] = None
        else:
            by_range.setdefault(key, set()).update(segment.symbols)
    return [
        Segment(None if symbols is None else tuple(sorted(symbols)), start, end)
        for (start, end), symbols in sorted(by_range.items())
    ]


def _current_period_file(info: PartInfo, today: str) -> bool:
    """Return True if a period file still has the right granularity for its dates."""
    label = info.notes.get("period", "")
    return bool(label) and period_of(Period(label).start, today).label == label


def choose_sources(parts: list[PartInfo], today: str) -> list[PartInfo]:
    """Return the files to merge this time: small parts (except a few of the current month)
    and period files whose granularity changed (months of a year that has closed)."""
    month = today[:6]
    small = [part for part in parts if part.scope != "period"]
    open_month = [
        part
        for part in small
        if part.segments
        and all(
            segment.start[:6] == month and segment.end[:6] == month for segment in part.segments
        )
    ]
    chosen = [part for part in small if part not in open_month]
    if len(open_month) >= OPEN_MONTH_TRIGGER:
        chosen += open_month
    chosen += [
        part for part in parts if part.scope == "period" and not _current_period_file(part, today)
    ]
    return chosen


def _period_column(table: pa.Table, date_column: str, today: str) -> np.ndarray:
    """Return each row's period label: its year if closed, else its month."""
    # A row without a date (possible in announcement data) goes to the earliest period.
    dates = pc.fill_null(table.column(date_column), UNDATED)
    years = pc.utf8_slice_codeunits(dates, 0, 4).to_numpy(zero_copy_only=False).astype(str)
    months = pc.utf8_slice_codeunits(dates, 0, 6).to_numpy(zero_copy_only=False).astype(str)
    return np.where(years < today[:4], years, months)


def compact_dataset(data_dir: Path, dataset: Dataset, today: str) -> dict[str, int]:
    """Merge the chosen files of one dataset into period files; return counts for the log."""
    parts = read_parts(data_dir, dataset.name)
    sources = choose_sources(parts, today)
    if not sources:
        return {"sources": 0, "periods": 0}

    date_column = dataset.date_column or "trade_date"
    targets: set[Period] = set()
    for source in sources:
        targets |= _periods_of_segments(source.segments, today)
        if source.scope == "period":
            targets.add(period_of(Period(source.notes["period"]).start, today))
        if dataset.announcement:
            # Announcement parts hold rows outside their coverage (a symbol's whole
            # history, a lookback), and those rows need a period file too.
            dates = pq.read_table(source.path, columns=[date_column])
            targets |= {Period(label) for label in _period_column(dates, date_column, today)}
    # Existing period files of the target periods are merged too.
    for part in parts:
        if part.scope == "period" and part not in sources:
            if Period(part.notes["period"]) in targets:
                sources.append(part)

    # Each source is read once and its rows are spilled to one unsorted file per period;
    # each period is then sorted on its own, so memory stays at one period's rows.
    folder = data_dir / dataset.name
    spill_dir = folder / f".spill-{uuid.uuid4().hex}.tmp"
    spill_dir.mkdir()
    writers: dict[str, pq.ParquetWriter] = {}
    schema = dataset.arrow_schema().append(pa.field("_fetched_at", pa.string()))
    try:
        for source in sources:
            table = pq.read_table(source.path).replace_schema_metadata(None)
            if table.num_rows == 0:
                continue
            labels = _period_column(table, date_column, today)
            table = table.append_column(
                "_fetched_at", pa.array([source.fetched_at] * table.num_rows, pa.string())
            )
            for label in np.unique(labels):
                chunk = table.filter(pa.array(labels == label))
                if label not in writers:
                    writers[label] = pq.ParquetWriter(spill_dir / f"{label}.parquet", schema)
                writers[label].write_table(chunk)
        for writer in writers.values():
            writer.close()
        renames = _write_period_files(folder, dataset, sources, targets, spill_dir, today)
        replaced = sorted(source.path.name for source in sources)
    finally:
        for writer in writers.values():
            writer.close()
        for path in spill_dir.glob("*"):
            path.unlink()
        spill_dir.rmdir()

    _commit(data_dir, dataset.name, renames, replaced)
    log.info(
        "%s：把 %d 个文件重新整理为 %d 个按年或按月的时段文件",
        dataset.name,
        len(sources),
        len(targets),
    )
    return {"sources": len(sources), "periods": len(targets)}


def _write_period_files(
    folder: Path,
    dataset: Dataset,
    sources: list[PartInfo],
    targets: set[Period],
    spill_dir: Path,
    today: str,
) -> list[tuple[str, str]]:
    replaced = sorted(source.path.name for source in sources)
    renames = []
    all_segments = [segment for source in sources for segment in source.segments]
    newest = max(source.fetched_at for source in sources)
    for period in sorted(targets, key=lambda item: item.label):
        spill = spill_dir / f"{period.label}.parquet"
        if spill.exists():
            table = pq.read_table(spill)
            # Keep each key's row from the most recently fetched source, then sort by the key.
            key = dataset.dedupe_key
            order = [(name, "ascending") for name in key] + [("_fetched_at", "descending")]
            table = table.sort_by(order)
            keys = [table.column(name) for name in key]
            first = np.ones(table.num_rows, dtype=bool)
            if table.num_rows > 1:
                same = np.ones(table.num_rows - 1, dtype=bool)
                for column in keys:
                    values = column.to_numpy(zero_copy_only=False)
                    same &= values[1:] == values[:-1]
                first[1:] = ~same
            table = table.filter(pa.array(first)).drop_columns(["_fetched_at"])
        else:
            table = dataset.arrow_schema().empty_table()
        digest = hashlib.sha256(json.dumps(replaced).encode()).hexdigest()[:10]
        name = f"p{period.label}-{digest}.parquet"
        temporary = folder / f".{name}.{uuid.uuid4().hex}.tmp"
        write_part(
            temporary,
            dataset,
            table.replace_schema_metadata(None),
            scope="period",
            segments=_clip(all_segments, period),
            fetched_at=newest,
            calls=0,
            notes={"period": period.label, "replaces": replaced},
        )
        renames.append((str(temporary), str(folder / name)))
    return renames


def _journal_path(data_dir: Path) -> Path:
    return data_dir / ".tslake" / JOURNAL_NAME


def replaced_index_path(data_dir: Path) -> Path:
    """Return the path of the index of replaced files, which Snakefile parsing reads cheaply."""
    return data_dir / ".tslake" / "replaced.json"


def read_replaced_index(data_dir: Path) -> dict[str, list[str]]:
    path = replaced_index_path(data_dir)
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


def _commit(
    data_dir: Path, dataset: str, renames: list[tuple[str, str]], replaced: list[str]
) -> None:
    _write_json(
        _journal_path(data_dir), {"renames": renames, "dataset": dataset, "replaced": replaced}
    )
    recover(data_dir)


def recover(data_dir: Path) -> None:
    """Finish a compaction whose journal was written: apply its renames, record what they
    replaced, then drop the journal. Safe to repeat."""
    journal = _journal_path(data_dir)
    if not journal.exists():
        return
    entry = json.loads(journal.read_text(encoding="utf-8"))
    for temporary, final in entry["renames"]:
        if Path(temporary).exists():
            os.replace(temporary, final)
    index = read_replaced_index(data_dir)
    names = set(index.get(entry["dataset"], [])) | set(entry["replaced"])
    index[entry["dataset"]] = sorted(names)
    _write_json(replaced_index_path(data_dir), index)
    journal.unlink()


def remove_replaced(data_dir: Path) -> list[Path]:
    """Delete files that period files replaced; call at the start of a run, under the run lock.

    The names stay in the index, so the parts fingerprint does not change when the
    files go, and a plan made before the deletion stays valid.
    """
    removed = []
    for name, names in read_replaced_index(data_dir).items():
        for file_name in names:
            path = data_dir / name / file_name
            if path.exists():
                path.unlink()
                removed.append(path)
    if removed:
        log.info("已删除 %d 个已被合并的旧文件", len(removed))
    return removed


def replaced_names(infos: list[PartInfo]) -> set[str]:
    names: set[str] = set()
    for info in infos:
        if info.scope == "period":
            names.update(info.notes.get("replaces", []))
    return names


def compaction_groups(data_dir: Path) -> dict[str, list[str]]:
    """Return, per dataset, the period labels present (for reports and tests)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name in DATASETS:
        for info in read_parts(data_dir, name):
            if info.scope == "period":
                groups[name].append(info.notes["period"])
    return dict(groups)
