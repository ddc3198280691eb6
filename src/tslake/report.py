"""Messages the workflow prints to the user at the start and the end of a run."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from tslake.config import Settings
from tslake.parts import METADATA_KEY
from tslake.planning import read_plan
from tslake.summary import format_run_summary


def print_up_to_date(run_record: str) -> None:
    """Say so when this invocation's plan already ran to the end, so Snakemake has nothing to do."""
    if Path(run_record).exists():
        print("数据湖已是最新：没有缺失的数据，本次不会调用任何数据接口。", flush=True)


def print_run_summary(settings: Settings, plan_dir: str, run_record: str) -> None:
    """Print rows added per dataset and the API calls of the units this run fetched.

    Prints nothing when the run stopped before the catalog (for example `snakemake plan`).
    """
    if not Path(run_record).exists():
        return
    document = read_plan(Path(plan_dir))
    rows: Counter[str] = Counter({row["dataset"]: 0 for row in document["datasets"]})
    calls = 0
    for unit in document["units"]:
        path = settings.data_dir / unit["dataset"] / f"{unit['unit_id']}.parquet"
        if not path.exists():
            continue
        meta = json.loads(pq.read_metadata(path).metadata[METADATA_KEY])
        rows[unit["dataset"]] += int(meta["rows"])
        calls += int(meta["calls"])
    print(format_run_summary(document, dict(rows), calls), flush=True)
