"""`snakemake validate`: run the data checks over the whole lake already on disk.

Reads part metadata and only the columns each check needs (DuckDB projects
and aggregates inside the Parquet files), and prints a Chinese summary per
dataset. Nothing is changed or fetched.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from tslake.consistency import CHECKED, REFERENCE
from tslake.coverage import read_parts
from tslake.registry import DATASETS
from tslake.universe import load_universe
from tslake.validate import FINDING_NAMES

# SQL conditions of the value checks, per dataset, over the columns they need.
VALUE_CHECKS: dict[str, dict[str, str]] = {
    "daily": {
        "high_below_low": "high < low",
        "close_outside_range": "close < low OR close > high",
        "negative_volume": "vol < 0",
    },
    "adj_factor": {"nonpositive_adj_factor": "adj_factor <= 0"},
    "daily_basic": {
        "negative_share": "total_share < 0 OR float_share < 0 OR free_share < 0 OR total_mv < 0 OR circ_mv < 0"
    },
}


def _files(data_dir: Path, name: str) -> list[str]:
    return [str(part.path) for part in read_parts(data_dir, name)]


def check_dataset(
    connection: duckdb.DuckDBPyConnection,
    data_dir: Path,
    name: str,
    open_days: list[str],
    listed_per_day: dict[str, int],
    tolerance: float,
) -> list[str]:
    """Return the summary lines of one daily dataset."""
    files = _files(data_dir, name)
    if not files:
        return [f"{name}：没有数据文件。"]
    lines = []
    total = connection.execute(
        "SELECT count(*) FROM read_parquet($files)", {"files": files}
    ).fetchone()[0]
    duplicates = connection.execute(
        "SELECT count(*) FROM (SELECT ts_code, trade_date FROM read_parquet($files) "
        "GROUP BY ALL HAVING count(*) > 1)",
        {"files": files},
    ).fetchone()[0]
    lines.append(
        f"{name}：{len(files)} 个文件，{total} 行；跨文件重复的主键 {duplicates} 个（视图按最新文件去重）。"
    )
    for kind, condition in VALUE_CHECKS.get(name, {}).items():
        count = connection.execute(
            f"SELECT count(*) FROM read_parquet($files) WHERE {condition}", {"files": files}
        ).fetchone()[0]
        if count:
            lines.append(f"  {FINDING_NAMES[kind]}：{count} 行")
    connection.register("open_days", _day_table(open_days))
    closed = connection.execute(
        "SELECT count(*) FROM read_parquet($files) WHERE trade_date NOT IN (SELECT day FROM open_days)",
        {"files": files},
    ).fetchone()[0]
    if closed:
        lines.append(
            f"  {FINDING_NAMES['closed_day_row']}：{closed} 行（交易日历以 trade_cal 为准，不因此改变）"
        )
    counts = dict(
        connection.execute(
            "SELECT trade_date, count(*) FROM read_parquet($files) GROUP BY trade_date",
            {"files": files},
        ).fetchall()
    )
    short = [
        (day, listed, counts.get(day, 0))
        for day, listed in sorted(listed_per_day.items())
        if day in counts and counts[day] < (1 - tolerance) * listed
    ]
    if short:
        examples = "、".join(
            f"{day}（预计约 {listed} 行，实有 {got} 行）" for day, listed, got in short[:5]
        )
        lines.append(f"  行数明显不足的交易日：{len(short)} 个，例如 {examples}")
    if name in CHECKED:
        reference = _files(data_dir, REFERENCE)
        if reference:
            missing = connection.execute(
                "SELECT count(*) FROM read_parquet($reference) AS d "
                "ANTI JOIN read_parquet($files) AS c USING (ts_code, trade_date)",
                {"reference": reference, "files": files},
            ).fetchone()[0]
            if missing:
                lines.append(f"  daily 中存在、本数据集缺少的（股票, 交易日）：{missing} 个")
    if len(lines) == 1:
        lines.append("  未发现问题。")
    return lines


# Rows of announcement datasets whose dates contradict each other.
ANNOUNCEMENT_CHECKS: dict[str, str] = {
    "f_ann_date < ann_date": "实际公告日期早于公告日期",
    "ann_date < end_date": "公告日期早于报告期末",
}


def check_announcements(
    connection: duckdb.DuckDBPyConnection, data_dir: Path, name: str
) -> list[str]:
    """Return the summary lines of one statement or event dataset."""
    dataset = DATASETS[name]
    files = _files(data_dir, name)
    if not files:
        return [f"{name}：没有数据文件。"]
    key = ", ".join(dataset.dedupe_key)
    total, versions, symbols = connection.execute(
        f"SELECT count(*), count(DISTINCT ({key})), count(DISTINCT ts_code) "
        "FROM read_parquet($files)",
        {"files": files},
    ).fetchone()
    lines = [
        f"{name}：{len(files)} 个文件，{total} 行，{symbols} 只股票，{versions} 个不同的版本"
        "（文件间重叠的行在视图中按最新文件去重）。"
    ]
    columns = set(dataset.column_names)
    for condition, text in ANNOUNCEMENT_CHECKS.items():
        if not {word for word in condition.split() if "_" in word} <= columns:
            continue
        # Dividends give the paid period, which a proposal may precede; only statements are checked.
        if dataset.kind != "statement" and "end_date" in condition:
            continue
        count = connection.execute(
            f"SELECT count(*) FROM read_parquet($files) WHERE {condition}", {"files": files}
        ).fetchone()[0]
        if count:
            lines.append(f"  {text}：{count} 行")
    return lines


def _day_table(days: list[str]) -> pa.Table:
    return pa.table({"day": pa.array(days, pa.string())})


def validate_lake(data_dir: Path, datasets: tuple[str, ...], tolerance: float) -> str:
    """Run every check over the lake and return the Chinese summary."""
    universe = load_universe(data_dir)
    open_days = universe.open_days.tolist()
    open_set = set(open_days)
    lines = [f"数据湖检查（{data_dir}）"]
    with duckdb.connect() as connection:
        for name in datasets:
            if DATASETS[name].announcement:
                lines += check_announcements(connection, data_dir, name)
                continue
            if DATASETS[name].kind != "daily":
                continue
            files = _files(data_dir, name)
            days = []
            if files:
                days = [
                    row[0]
                    for row in connection.execute(
                        "SELECT DISTINCT trade_date FROM read_parquet($files)", {"files": files}
                    ).fetchall()
                ]
            listed = {day: len(universe.listed_codes(day)) for day in days if day in open_set}
            lines += check_dataset(connection, data_dir, name, open_days, listed, tolerance)
    return "\n".join(lines)
