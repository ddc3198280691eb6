"""Rule fetch_unit: run one unit's calls and write its part."""

from pathlib import Path

from tslake.config import load_settings
from tslake.fetch import fetch_unit
from tslake.logs import setup_logging
from tslake.planning import read_unit
from tslake.registry import DATASETS
from tslake.runctx import make_client
from tslake.universe import load_universe

snakemake = globals()["snakemake"]


def main() -> None:
    setup_logging(snakemake.log[0])
    settings = load_settings(snakemake.config)
    unit = read_unit(Path(snakemake.input[0]))
    dataset = DATASETS[unit.dataset]
    client = make_client(settings, label=f"单元 {unit.dataset}/{unit.unit_id}")
    universe = load_universe(settings.data_dir)
    fetch_unit(
        unit,
        dataset,
        client,
        settings.row_cap(dataset),
        Path(snakemake.output[0]),
        universe,
        settings.completeness_tolerance,
    )


main()
