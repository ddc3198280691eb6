"""Killing the run with SIGKILL at random moments never leaves a broken part or catalog."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

import duckdb
import pandas as pd
import pyarrow.parquet as pq
from conftest import Lake

KILLS = 20
NOW = "2024-06-14T20:00"
SETTINGS = {
    "start_date": "20230101",
    "now": NOW,
    "sim": {"symbols": 60, "seed": 21},
    "calls_per_job": 4,
}


def start(lake: Lake) -> subprocess.Popen:
    return subprocess.Popen(
        lake.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def check_intact(lake: Lake) -> None:
    """Every finished part and the catalog, if present, must open and read."""
    for path in lake.data.rglob("*.parquet"):
        if path.name.startswith("."):
            continue
        pq.read_table(path)
    catalog = lake.data / "metadata.db"
    if catalog.exists():
        with duckdb.connect(str(catalog), read_only=True) as connection:
            connection.execute("SELECT count(*) FROM parts").fetchone()


def snapshot(lake: Lake) -> dict[str, pd.DataFrame]:
    tables = {}
    for name in ("daily", "adj_factor", "daily_basic", "stock_basic", "trade_cal"):
        frame = lake.query(f"SELECT * FROM {name}")
        tables[name] = frame.sort_values(list(frame.columns[:2])).reset_index(drop=True)
    return tables


def test_repeated_sigkill_then_clean_finish(lake_factory):
    random.seed(20261204)
    clean = lake_factory("clean", **SETTINGS)
    clean.snakemake()
    crashed = lake_factory("crashed", **SETTINGS)
    for _ in range(KILLS):
        process = start(crashed)
        time.sleep(random.uniform(0.3, 4.0))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        check_intact(crashed)
    crashed.snakemake()
    check_intact(crashed)
    want = snapshot(clean)
    got = snapshot(crashed)
    for name, frame in want.items():
        pd.testing.assert_frame_equal(got[name], frame, check_dtype=False)
