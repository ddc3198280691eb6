"""Rule refresh_announcements: fetch the disclosure days that statement planning needs."""

from pathlib import Path

from tslake.config import load_settings
from tslake.disclosures import refresh_disclosures
from tslake.logs import setup_logging
from tslake.runctx import make_client, run_context

snakemake = globals()["snakemake"]


def main() -> None:
    setup_logging(snakemake.log[0])
    settings = load_settings(snakemake.config)
    context = run_context(settings, snakemake.config)
    client = make_client(settings, label="财报披露日期")
    refresh_disclosures(settings, context.now, client, Path(snakemake.output[0]))


main()
