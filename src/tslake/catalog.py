"""Build the DuckDB catalog `metadata.db`: a table of parts, their coverage, and one view per dataset.

Views computed from those (adjusted prices, point-in-time statements) are in `derived`.

The catalog is written to a temporary file and renamed over the old one, so a
process that has the old file open read-only keeps reading it undisturbed.
The parts stay the truth: the catalog can always be rebuilt from them alone.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from pathlib import Path

import duckdb
import pyarrow as pa

from tslake.coverage import read_parts
from tslake.derived import create_derived_views
from tslake.parts import PartInfo
from tslake.registry import DATASETS, Dataset

log = logging.getLogger(__name__)

DUCKDB_TYPES = {"string": "VARCHAR", "float64": "DOUBLE", "int64": "BIGINT"}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _segments_overlap(parts: list[PartInfo]) -> bool:
    """Return True if two parts cover the same (symbol, day) pair, so the view must deduplicate."""
    market: list[tuple[str, str]] = []
    by_code: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for part in parts:
        for segment in part.segments:
            if segment.symbols is None:
                market.append((segment.start, segment.end))
            else:
                for code in segment.symbols:
                    by_code[code].append((segment.start, segment.end))
    if _any_overlap(market):
        return True
    return any(_any_overlap(spans + market) for spans in by_code.values())


def _any_overlap(spans: list[tuple[str, str]]) -> bool:
    ordered = sorted(spans)
    return any(later[0] <= earlier[1] for earlier, later in zip(ordered, ordered[1:], strict=False))


def _empty_view(dataset: Dataset) -> str:
    columns = ", ".join(
        f"CAST(NULL AS {DUCKDB_TYPES[column.type]}) AS {column.name}" for column in dataset.columns
    )
    return f"SELECT {columns} WHERE false"


def _view_sql(dataset: Dataset, parts: list[PartInfo]) -> str:
    if not parts:
        return _empty_view(dataset)
    if dataset.kind == "snapshot":
        newest = max(parts, key=lambda part: (part.as_of or "", part.path.name))
        return f"SELECT * FROM read_parquet({_quote(str(newest.path))})"
    files = "[" + ", ".join(_quote(str(part.path)) for part in parts) + "]"
    # Announcement requests reach before the covered days (lookback, whole histories),
    # so their parts can share rows even where their coverage does not overlap.
    if not dataset.announcement and not _segments_overlap(parts):
        return f"SELECT * FROM read_parquet({files})"
    # Overlapping parts: keep each key's row from the most recently fetched part.
    key = dataset.dedupe_key
    columns = ", ".join(f"r.{name}" for name in dataset.column_names)
    return (
        f"SELECT {columns} FROM read_parquet({files}, filename = true) AS r "
        f"JOIN parts AS p ON p.path = r.filename "
        f"QUALIFY row_number() OVER (PARTITION BY {', '.join('r.' + k for k in key)} "
        f"ORDER BY p.fetched_at DESC, p.path DESC) = 1 /* key: {', '.join(key)} */"
    )


def prune_snapshots(data_dir: Path) -> None:
    """Delete every snapshot but the newest of each snapshot dataset (the one the views read)."""
    for name, dataset in DATASETS.items():
        if dataset.kind != "snapshot":
            continue
        parts = read_parts(data_dir, name)
        if len(parts) < 2:
            continue
        newest = max(parts, key=lambda part: (part.as_of or "", part.path.name))
        for part in parts:
            if part.path != newest.path:
                part.path.unlink()
                log.info("已删除旧快照 %s", part.path)


def build_catalog(data_dir: Path, output: Path) -> dict[str, int]:
    """Write the catalog for every dataset that has parts under `data_dir`; return rows per dataset."""
    temporary = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    try:
        connection = duckdb.connect(str(temporary))
        try:
            connection.execute(
                "CREATE TABLE parts (dataset VARCHAR, path VARCHAR, scope VARCHAR, as_of VARCHAR, "
                "rows BIGINT, fetched_at VARCHAR, size_bytes BIGINT)"
            )
            connection.execute(
                "CREATE TABLE coverage (dataset VARCHAR, path VARCHAR, ts_code VARCHAR, "
                "start_date VARCHAR, end_date VARCHAR)"
            )
            for name, dataset in DATASETS.items():
                parts = read_parts(data_dir, name)
                _insert_parts(connection, parts)
                connection.execute(f"CREATE VIEW {name} AS {_view_sql(dataset, parts)}")
                rows[name] = connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            create_derived_views(connection)
        finally:
            connection.close()
        os.replace(temporary, output)
        prune_snapshots(data_dir)
    finally:
        temporary.unlink(missing_ok=True)
        Path(str(temporary) + ".wal").unlink(missing_ok=True)
    log.info("目录已更新：%s（%s）", output, ", ".join(f"{k} {v} 行" for k, v in rows.items()))
    return rows


def _insert_parts(connection: duckdb.DuckDBPyConnection, parts: list[PartInfo]) -> None:
    part_table = pa.table(
        {
            "dataset": [p.dataset for p in parts],
            "path": [str(p.path) for p in parts],
            "scope": [p.scope for p in parts],
            "as_of": pa.array([p.as_of for p in parts], pa.string()),
            "rows": pa.array([p.rows for p in parts], pa.int64()),
            "fetched_at": [p.fetched_at for p in parts],
            "size_bytes": pa.array([p.size for p in parts], pa.int64()),
        }
    )
    coverage = [
        (p.dataset, str(p.path), code, segment.start, segment.end)
        for p in parts
        for segment in p.segments
        for code in (segment.symbols or (None,))
    ]
    columns = list(zip(*coverage, strict=False)) if coverage else [[], [], [], [], []]
    coverage_table = pa.table(
        [pa.array(list(values), pa.string()) for values in columns],
        names=["dataset", "path", "ts_code", "start_date", "end_date"],
    )
    connection.register("new_parts", part_table)
    connection.register("new_coverage", coverage_table)
    connection.execute("INSERT INTO parts SELECT * FROM new_parts")
    connection.execute("INSERT INTO coverage SELECT * FROM new_coverage")
    connection.unregister("new_parts")
    connection.unregister("new_coverage")
