"""Rule build_catalog: check consistency across datasets, rebuild metadata.db, record the run."""

import json
from pathlib import Path

from tslake.catalog import build_catalog
from tslake.config import load_settings
from tslake.consistency import check_consistency
from tslake.logs import setup_logging
from tslake.report import units_left_gaps
from tslake.runctx import record_finished_run, remove_old_plans, run_context

snakemake = globals()["snakemake"]


def main() -> None:
    setup_logging(snakemake.log[0])
    settings = load_settings(snakemake.config)
    context = run_context(settings, snakemake.config)
    plan = json.loads(Path(snakemake.input.plan).read_text(encoding="utf-8"))
    spans = [
        (call["segment"][1], call["segment"][2]) for unit in plan["units"] for call in unit["calls"]
    ]
    consistency = {}
    if spans:
        start = min(span[0] for span in spans)
        end = max(span[1] for span in spans)
        consistency = check_consistency(settings.data_dir, settings.state_dir, start, end)
    rows = build_catalog(settings.data_dir, settings.catalog_path)
    # Pairs retracted for another try, or days left short, must be planned again next time.
    retried = any(value["retracted"] for value in consistency.values())
    complete = not retried and not units_left_gaps(settings.data_dir, plan["units"])
    record_finished_run(settings, context, rows, Path(snakemake.output[0]), consistency, complete)
    remove_old_plans(settings, keep=context.key)


main()
