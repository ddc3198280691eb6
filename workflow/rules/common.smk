"""Settings, run context and hooks shared by every rule.

Inputs: config/config.yaml and --config overrides. Outputs: none.
Parsing must stay cheap (it runs again in every job): no API call, no row read.
"""

import sys
from pathlib import Path

from tslake.config import ConfigError, load_settings
from tslake.local_server import start_local_server, stop_local_server
from tslake.planning import read_plan
from tslake.report import print_run_summary, print_up_to_date
from tslake.runctx import is_main_process, run_context

try:
    SETTINGS = load_settings(config)
except ConfigError as error:
    sys.exit(f"配置错误：{error}")

MAIN_PROCESS = is_main_process()
RUN = run_context(SETTINGS, config)
DATA = config["data_dir"]
STATE = f"{DATA}/.tslake"
LOGS = f"{STATE}/logs"
PLAN_DIR = f"{STATE}/plans/{RUN.key}"
RUN_RECORD = f"{STATE}/runs/{RUN.key}.json"
DAILY_DATASETS = SETTINGS.daily_datasets

if MAIN_PROCESS:
    print_up_to_date(RUN_RECORD)

SERVER = {}


def planned_parts(wildcards):
    """Return the part of every unit in this run's plan (the one aggregation point)."""
    plan_file = checkpoints.plan.get().output.plan
    units = read_plan(Path(plan_file).parent)["units"]
    return [f"{DATA}/{unit['dataset']}/{unit['unit_id']}.parquet" for unit in units]


onstart:
    if SETTINGS.source != "tushare":
        SERVER["process"] = start_local_server(SETTINGS, RUN.now)


onsuccess:
    stop_local_server(SETTINGS, SERVER.get("process"))
    print_run_summary(SETTINGS, PLAN_DIR, RUN_RECORD)


onerror:
    stop_local_server(SETTINGS, SERVER.get("process"))
