"""Rule validate: run the data checks over the whole lake and print the summary."""

from pathlib import Path

from tslake.config import load_settings
from tslake.lakecheck import validate_lake
from tslake.logs import setup_logging

snakemake = globals()["snakemake"]


def main() -> None:
    setup_logging(snakemake.log[0])
    settings = load_settings(snakemake.config)
    summary = validate_lake(settings.data_dir, settings.datasets, settings.completeness_tolerance)
    Path(snakemake.log[0]).open("a", encoding="utf-8").write(summary + "\n")
    print(summary, flush=True)


main()
