"""Rule build_catalog: rebuild metadata.db from the parts and remember the finished run."""

from pathlib import Path

from tslake.catalog import build_catalog
from tslake.config import load_settings
from tslake.logs import setup_logging
from tslake.runctx import record_finished_run, remove_old_plans, run_context

snakemake = globals()["snakemake"]


def main() -> None:
    setup_logging(snakemake.log[0])
    settings = load_settings(snakemake.config)
    context = run_context(settings, snakemake.config)
    rows = build_catalog(settings.data_dir, settings.catalog_path)
    record_finished_run(settings, context, rows, Path(snakemake.output[0]))
    remove_old_plans(settings, keep=context.key)


main()
