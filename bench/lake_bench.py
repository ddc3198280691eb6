"""Benchmark the workflow on the simulated whole market against a per-symbol design.

Runs the scenarios cold backfill, no-op run and one-day update in one
invocation, through the real `snakemake` command with the local server. For
each it prints API calls, Snakemake jobs, wall time and the peak memory of any
job. It also prints the ratio of API calls to a per-symbol downloader, which
makes one start_date call per symbol and dataset. Then it times two queries on the compacted lake against the same
rows laid out as one Parquet file per symbol.

    python bench/lake_bench.py            # reduced history (2024 only), a few minutes
    python bench/lake_bench.py --full     # history since 1990 (about half an hour here)

Times are ratios within this process where it matters: absolute numbers depend
on the machine and its load.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("daily", "adj_factor", "daily_basic")
COLD_NOW = "2024-06-14T20:00"
UPDATE_NOW = "2024-06-17T20:00"


def write_config(folder: Path, symbols: int, start_date: str) -> Path:
    with (REPO / "config" / "config.yaml").open(encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    config.update(
        {
            "data_dir": "data",
            "source": "sim",
            "start_date": start_date,
            "sim": {"symbols": symbols, "seed": 20261204},
            "rate_limit": 100000,
        }
    )
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def call_log(folder: Path) -> list[dict]:
    path = folder / "data" / ".tslake" / "logs" / "server-calls.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def peak_memory_mb(folder: Path, key: str) -> float:
    """Return the largest max_rss (MB) that Snakemake's benchmark files recorded for one run."""
    peak = 0.0
    for path in (folder / "data" / ".tslake" / "benchmarks" / key).glob("*.tsv"):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                value = row.get("max_rss", "NA")
                if value not in ("NA", ""):
                    peak = max(peak, float(value))
    return peak


def run_scenario(folder: Path, config: Path, now: str, symbols: int) -> dict[str, object]:
    before = len(call_log(folder))
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(folder),
        "--configfile",
        str(config),
        "--cores",
        "2",
        "--config",
        f"now={now}",
    ]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"snakemake failed:\n{result.stderr[-4000:]}")
    calls = [call for call in call_log(folder)[before:] if call["api"] in DATASETS]
    jobs = 0
    for line in result.stderr.splitlines():
        if "steps (100%) done" in line:
            jobs = int(line.split(" of ")[1].split()[0])
    records = sorted(
        (folder / "data" / ".tslake" / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime
    )
    key = json.loads(records[-1].read_text(encoding="utf-8"))["key"] if records else ""
    baseline = symbols * len(DATASETS)
    return {
        "calls": len(calls),
        "jobs": jobs,
        "seconds": seconds,
        "peak_mb": peak_memory_mb(folder, key) if jobs else 0.0,
        "baseline_calls": baseline,
        "ratio": len(calls) / baseline,
        "plan_bound": plan_bounds(folder, key),
    }


def plan_bounds(folder: Path, key: str) -> str:
    path = folder / "data" / ".tslake" / "plans" / key / "plan.json"
    if not path.exists():
        return "-"
    plan = json.loads(path.read_text(encoding="utf-8"))
    parts = [
        f"{row['dataset']} {row['calls']}/{row['lower_bound']}"
        for row in plan["datasets"]
        if row["calls"]
    ]
    return ", ".join(parts) or "-"


def median_ms(
    connection: duckdb.DuckDBPyConnection, sql: str, parameters: list, repeats: int = 7
) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        connection.execute(sql, parameters).fetchall()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def query_latencies(folder: Path) -> dict[str, float]:
    """Time one symbol's history and one date's cross section on both layouts."""
    catalog = folder / "data" / "metadata.db"
    per_symbol = folder / "per_symbol"
    per_symbol.mkdir(exist_ok=True)
    with duckdb.connect(str(catalog), read_only=True) as connection:
        connection.execute("SET enable_progress_bar = false")
        code = connection.execute(
            "SELECT ts_code FROM daily GROUP BY ts_code ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
        day = connection.execute("SELECT max(trade_date) FROM daily").fetchone()[0]
        if not any(per_symbol.iterdir()):
            # One file per symbol, as a per-symbol downloader keeps them (one thread: one file each).
            connection.execute("SET threads = 1")
            connection.execute(
                f"COPY (SELECT * FROM daily ORDER BY ts_code, trade_date) TO '{per_symbol}' "
                "(FORMAT parquet, PARTITION_BY (ts_code))"
            )
            connection.execute("RESET threads")
        lake_symbol = median_ms(connection, "SELECT * FROM daily WHERE ts_code = ?", [code])
        lake_day = median_ms(connection, "SELECT * FROM daily WHERE trade_date = ?", [day])
    files = f"{per_symbol}/*/*.parquet"
    with duckdb.connect() as connection:
        symbol_sql = (
            f"SELECT * FROM read_parquet('{files}', hive_partitioning = true) WHERE ts_code = ?"
        )
        day_sql = (
            f"SELECT * FROM read_parquet('{files}', hive_partitioning = true) WHERE trade_date = ?"
        )
        base_symbol = median_ms(connection, symbol_sql, [code])
        base_day = median_ms(connection, day_sql, [day])
    return {
        "symbol_ms": lake_symbol,
        "symbol_baseline_ms": base_symbol,
        "day_ms": lake_day,
        "day_baseline_ms": base_day,
        "files": len(list((folder / "data" / "daily").glob("*.parquet"))),
        "baseline_files": len([entry for entry in per_symbol.iterdir() if entry.is_dir()]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--full", action="store_true", help="backfill history since 1990 instead of 2024 only"
    )
    parser.add_argument("--symbols", type=int, default=5400, help="size of the simulated market")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the lake in this folder (default: a temporary one, removed at the end)",
    )
    args = parser.parse_args()
    start_date = "19900101" if args.full else "20240101"
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        run_benchmark(args.workdir, args.symbols, start_date)
        return
    # The temporary lake takes about 100 MB, so it is removed afterwards.
    with tempfile.TemporaryDirectory(prefix="tslake-bench-") as temporary:
        run_benchmark(Path(temporary), args.symbols, start_date)


def run_benchmark(folder: Path, symbols: int, start_date: str) -> None:
    """Run the three scenarios and the query latencies in `folder`, printing one line each."""
    config = write_config(folder, symbols, start_date)
    print(f"市场 {symbols} 只股票，起始日期 {start_date}，目录 {folder}")
    scenarios = [("cold", COLD_NOW), ("no-op", COLD_NOW), ("update", UPDATE_NOW)]
    header = f"{'scenario':<8}{'calls':>7}{'jobs':>6}{'seconds':>9}{'peak MB':>9}{'per-symbol calls':>18}{'ratio':>8}  calls/bound"
    print(header)
    for name, now in scenarios:
        row = run_scenario(folder, config, now, symbols)
        print(
            f"{name:<8}{row['calls']:>7}{row['jobs']:>6}{row['seconds']:>9.1f}{row['peak_mb']:>9.0f}"
            f"{row['baseline_calls']:>18}{row['ratio']:>8.3f}  {row['plan_bound']}"
        )
    latencies = query_latencies(folder)
    print(
        f"query   one symbol {latencies['symbol_ms']:.1f} ms vs per-symbol files {latencies['symbol_baseline_ms']:.1f} ms"
        f" (ratio {latencies['symbol_ms'] / latencies['symbol_baseline_ms']:.2f}); one date {latencies['day_ms']:.1f} ms"
        f" vs {latencies['day_baseline_ms']:.1f} ms (ratio {latencies['day_ms'] / latencies['day_baseline_ms']:.2f});"
        f" files {latencies['files']} vs {latencies['baseline_files']}"
    )


if __name__ == "__main__":
    main()
