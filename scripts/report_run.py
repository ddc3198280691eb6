"""Rule report_run: write the run report and the coverage heat map."""

import json
import time
from pathlib import Path

from tslake.config import load_settings
from tslake.coveragemap import coverage_by_year, draw_heatmap
from tslake.logs import setup_logging
from tslake.planning import read_plan
from tslake.runctx import run_context
from tslake.runreport import build_report, read_run_start, to_html, to_markdown
from tslake.universe import load_universe

snakemake = globals()["snakemake"]


def main() -> None:
    setup_logging(snakemake.log[0])
    settings = load_settings(snakemake.config)
    context = run_context(settings, snakemake.config)
    document = read_plan(Path(snakemake.input.plan).parent)
    record = json.loads(Path(snakemake.input.record).read_text(encoding="utf-8"))
    universe = load_universe(settings.data_dir)
    coverage = coverage_by_year(settings, universe, document["end_dates"])
    draw_heatmap(coverage, Path(snakemake.output.coverage))
    report = build_report(
        settings,
        context.now,
        context.key,
        document=document,
        record=record,
        started=read_run_start(settings),
        finished=time.time(),
        universe=universe,
        coverage=coverage,
    )
    Path(snakemake.output.html).write_text(to_html(report), encoding="utf-8")
    Path(snakemake.output.markdown).write_text(to_markdown(report), encoding="utf-8")


main()
