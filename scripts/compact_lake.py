"""Rule compact: merge small parts of the group's datasets into period files."""

import json
from pathlib import Path

from tslake.compaction import compact_dataset, recover
from tslake.config import load_settings
from tslake.logs import setup_logging
from tslake.registry import DATASETS
from tslake.runctx import run_context

snakemake = globals()["snakemake"]


def main() -> None:
    setup_logging(snakemake.log[0])
    settings = load_settings(snakemake.config)
    context = run_context(settings, snakemake.config)
    # A restarted job (profile `retries`) first finishes a commit that a failed attempt journaled.
    recover(settings.data_dir)
    counts = {
        name: compact_dataset(settings.data_dir, DATASETS[name], context.run_date)
        for name in settings.compacted_datasets
    }
    output = Path(snakemake.output[0])
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(counts, ensure_ascii=False), encoding="utf-8")


main()
