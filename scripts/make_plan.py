"""Rule plan: compare coverage with what the group needs and write the plan folder."""

import logging
from pathlib import Path

from tslake.config import load_settings
from tslake.logs import setup_logging
from tslake.planning import make_plan
from tslake.runctx import run_context

snakemake = globals()["snakemake"]


def main() -> None:
    setup_logging(snakemake.log[0])
    settings = load_settings(snakemake.config)
    context = run_context(settings, snakemake.config)
    make_plan(settings, context.now, Path(snakemake.output.plan).parent)
    summary = Path(snakemake.output.summary).read_text(encoding="utf-8")
    logging.getLogger("tslake").info("计划已写入 %s", snakemake.output.plan)
    print(summary, flush=True)


main()
