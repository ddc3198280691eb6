"""Rule fetch_unit: run one unit's calls and write its part."""

from pathlib import Path

from tslake.config import load_settings
from tslake.fetch import fetch_unit
from tslake.logs import setup_logging
from tslake.planning import read_unit
from tslake.registry import DATASETS
from tslake.runctx import make_client
from tslake.suspensions import Suspensions
from tslake.universe import load_universe

snakemake = globals()["snakemake"]


def main() -> None:
    setup_logging(snakemake.log[0])
    settings = load_settings(snakemake.config)
    unit = read_unit(Path(snakemake.input[0]))
    dataset = DATASETS[unit.dataset]
    client = make_client(settings, label=f"单元 {unit.dataset}/{unit.unit_id}")
    universe = load_universe(settings.data_dir)
    suspended = None
    if "suspend_d" in settings.datasets and dataset.name != "suspend_d":
        days = [call.segment.start for call in unit.calls if call.segment.symbols is None]
        suspended = Suspensions(settings.data_dir, days)
    fetch_unit(
        unit,
        dataset,
        client,
        settings.row_cap(dataset),
        Path(snakemake.output[0]),
        universe,
        settings.completeness_tolerance,
        suspended,
        settings.progress_interval,
    )


main()
