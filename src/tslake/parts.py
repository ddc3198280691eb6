"""The one place that writes and reads parts: immutable Parquet files with their coverage.

A part stores what it covers in its own key-value metadata under `tslake`,
so the coverage and the catalog can be rebuilt from the files alone:

    {"dataset": "daily", "scope": "market" | "symbols" | "snapshot",
     "segments": [[symbols or null, start, end], ...],
     "as_of": "YYYYMMDD" (snapshots), "rows": N, "fetched_at": ISO, "calls": N}

A segment with `null` symbols covers the whole market for its days.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tslake.registry import Dataset

METADATA_KEY = b"tslake"
FORMAT_VERSION = 1
ROW_GROUP_SIZE = 65536


@dataclass(frozen=True)
class Segment:
    """Symbols (None = whole market) covered over an inclusive range of days."""

    symbols: tuple[str, ...] | None
    start: str
    end: str

    def to_json(self) -> list[Any]:
        return [None if self.symbols is None else list(self.symbols), self.start, self.end]

    @classmethod
    def from_json(cls, value: list[Any]) -> Segment:
        symbols, start, end = value
        return cls(None if symbols is None else tuple(symbols), start, end)


@dataclass(frozen=True)
class PartInfo:
    """The coverage and figures that one part file records about itself."""

    path: Path
    dataset: str
    scope: str
    segments: tuple[Segment, ...]
    rows: int
    fetched_at: str
    as_of: str | None
    size: int
    calls: int = 0
    notes: dict[str, Any] = field(default_factory=dict)


def conform(frame: pd.DataFrame, dataset: Dataset) -> pa.Table:
    """Return `frame` as an Arrow table with exactly the registry's columns and types.

    Missing columns become nulls; numbers sent as text are parsed; columns the
    registry does not declare are left out.
    """
    arrays = []
    for column in dataset.columns:
        if column.name in frame.columns:
            values = frame[column.name]
        else:
            values = pd.Series([None] * len(frame), dtype="object")
        if column.type == "string":
            text = values.astype("object").where(values.notna(), None)
            arrays.append(pa.array([None if v is None else str(v) for v in text], pa.string()))
        elif column.type == "float64":
            numbers = pd.to_numeric(values, errors="raise").astype("float64")
            arrays.append(pa.array(numbers.to_numpy(), pa.float64(), from_pandas=True))
        else:
            numbers = pd.to_numeric(values, errors="raise").astype("Int64")
            arrays.append(pa.array(numbers, pa.int64(), from_pandas=True))
    table = pa.Table.from_arrays(arrays, schema=dataset.arrow_schema())
    sort_keys = [(name, "ascending") for name in dataset.key]
    return table.sort_by(sort_keys)


def write_part(
    path: Path,
    dataset: Dataset,
    table: pa.Table,
    *,
    scope: str,
    segments: list[Segment],
    fetched_at: str,
    calls: int,
    as_of: str | None = None,
    notes: dict[str, Any] | None = None,
) -> None:
    """Write `table` to `path` atomically: a temporary file in the same folder, then a rename.

    `notes` are findings about the fetched data (for example schema drift) kept for reports.
    """
    meta = {
        "format": FORMAT_VERSION,
        "dataset": dataset.name,
        "scope": scope,
        "segments": [segment.to_json() for segment in segments],
        "as_of": as_of,
        "rows": table.num_rows,
        "fetched_at": fetched_at,
        "calls": calls,
        "notes": notes or {},
    }
    # Compressed, because readers parse every file's footer on every query and coverage
    # can list thousands of codes.
    packed = base64.b64encode(
        zlib.compress(json.dumps(meta, ensure_ascii=False).encode("utf-8"), 9)
    )
    table = table.replace_schema_metadata(None)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        # store_schema=False: the Parquet types already give the registry's Arrow types, and
        # the Arrow schema copy would repeat the metadata in the footer. LZ4 files are about
        # as small as zstd ones here but decode faster: measured on a year of the simulated
        # market, a one-date query took 34 ms instead of 52 ms (DuckDB 1.5.6, 2 vCPUs).
        with pq.ParquetWriter(
            temporary, table.schema, compression="lz4", store_schema=False
        ) as writer:
            writer.write_table(table, row_group_size=ROW_GROUP_SIZE)
            writer.add_key_value_metadata({METADATA_KEY: packed})
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class PartError(ValueError):
    """A file in the data folder that is not a readable tslake part; the message names it."""


def read_part_info(path: Path) -> PartInfo:
    """Read a part's coverage from its footer, without reading any rows.

    Raises PartError naming the file when it is damaged or not a tslake part.
    """
    try:
        metadata = pq.read_metadata(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise PartError(
            f"数据文件 {path} 已损坏，无法读取（{error}）：请删除它，下次运行会重新下载它包含的数据。"
        ) from error
    raw = (metadata.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise PartError(
            f"{path} 不是 tslake 写入的数据文件（缺少 tslake 元数据）：请删除或移走它。"
        )
    meta = json.loads(raw if raw.startswith(b"{") else zlib.decompress(base64.b64decode(raw)))
    return PartInfo(
        path=path,
        dataset=meta["dataset"],
        scope=meta["scope"],
        segments=tuple(Segment.from_json(item) for item in meta["segments"]),
        rows=int(meta["rows"]),
        fetched_at=meta["fetched_at"],
        as_of=meta.get("as_of"),
        size=path.stat().st_size,
        calls=int(meta.get("calls", 0)),
        notes=meta.get("notes") or {},
    )


def list_part_files(data_dir: Path, dataset: str) -> list[Path]:
    """Return the finished part files of `dataset`, sorted by name (temporary files excluded)."""
    folder = data_dir / dataset
    if not folder.is_dir():
        return []
    return sorted(
        entry
        for entry in folder.iterdir()
        if entry.suffix == ".parquet" and not entry.name.startswith(".")
    )
