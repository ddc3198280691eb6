"""Settings, run context and hooks shared by every rule.

Inputs: config/config.yaml and --config overrides. Outputs: none.
Parsing must stay cheap (it runs again in every job): no API call, no row read.
"""

import sys
from functools import lru_cache
from pathlib import Path

from tslake.config import ConfigError, load_settings
from tslake.lifecycle import RunStartError, begin_run, fail_run, finish_run
from tslake.planning import read_plan
from tslake.report import print_up_to_date
from tslake.runctx import check_source, is_main_process, run_context

try:
    SETTINGS = load_settings(config)
    check_source(SETTINGS)
except ConfigError as error:
    sys.exit(f"配置错误：{error}")

MAIN_PROCESS = is_main_process()
RUN = run_context(SETTINGS, config)
DATA = config["data_dir"]
STATE = f"{DATA}/.tslake"
LOGS = f"{STATE}/logs"
PLAN_DIR = f"{STATE}/plans/{RUN.key}"
RUN_RECORD = f"{STATE}/runs/{RUN.key}.json"
# Reports of the last run that fetched; stable names, so `snakemake --report` finds them later.
REPORTS = f"{STATE}/reports"
DAILY_DATASETS = SETTINGS.daily_datasets
PLANNED_DATASETS = SETTINGS.planned_datasets

if MAIN_PROCESS:
    print_up_to_date(RUN_RECORD)

HANDLES = {}


@lru_cache(maxsize=4)
def plan_units(plan_file):
    """Return the units of a plan file, read once per process."""
    return read_plan(Path(plan_file).parent)["units"]


def planned_parts(wildcards):
    """Return the part of every unit in this run's plan (the one aggregation point)."""
    units = plan_units(checkpoints.plan.get().output.plan)
    return [f"{DATA}/{unit['dataset']}/{unit['unit_id']}.parquet" for unit in units]


def fetch_inputs(wildcards):
    """Return a unit's file, plus this run's suspend_d parts when the group has suspend_d:
    the completeness check of the other datasets counts suspended stocks from them."""
    inputs = [f"{PLAN_DIR}/units/{wildcards.dataset}/{wildcards.unit}.json"]
    if wildcards.dataset != "suspend_d" and "suspend_d" in DAILY_DATASETS:
        inputs += [path for path in planned_parts(wildcards) if "/suspend_d/" in path]
    return inputs


onstart:
    try:
        HANDLES["run"] = begin_run(SETTINGS, RUN.now)
    except RunStartError as error:
        sys.exit(str(error))


onsuccess:
    finish_run(HANDLES.get("run"), SETTINGS, PLAN_DIR, RUN_RECORD)


onerror:
    fail_run(HANDLES.get("run"), SETTINGS, PLAN_DIR, LOGS)
