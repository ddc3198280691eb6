"""Coverage by dataset and year: the share of expected (symbol, trading day) pairs the lake covers.

Expected pairs are the planner's needed pairs: for each symbol of the group, the
trading days from the later of `start_date` and its listing date to the earlier
of the dataset's end date and its delisting date. Covered pairs come from the
parts' own coverage, so a suspended stock's day counts once it was requested.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tslake.config import Settings
from tslake.coverage import covered_matrix, read_parts
from tslake.planner import needed_matrix
from tslake.planning import group_codes
from tslake.universe import Universe


@dataclass(frozen=True)
class YearCoverage:
    """Expected and covered (symbol, trading day) pairs of one dataset in one year."""

    dataset: str
    year: int
    expected: int
    covered: int

    @property
    def share(self) -> float:
        return self.covered / self.expected if self.expected else 1.0


def coverage_by_year(
    settings: Settings, universe: Universe, end_dates: dict[str, str | None]
) -> list[YearCoverage]:
    """Count expected and covered pairs per daily dataset of the group and per year.

    `end_dates` are the plan's end dates; a dataset without one (nothing published
    yet) is left out.
    """
    selected = group_codes(settings, universe)
    if selected is None:
        codes = universe.codes
    else:
        known = set(universe.codes.tolist())
        codes = np.array(sorted(code for code in selected if code in known), dtype=object)
    rows = []
    for name in settings.daily_datasets:
        end = end_dates.get(name)
        if not end or end < settings.start_date:
            continue
        days = universe.days_between(settings.start_date, end)
        if len(days) == 0 or len(codes) == 0:
            continue
        needed = needed_matrix(universe, codes, days)
        present = needed & covered_matrix(read_parts(settings.data_dir, name), codes, days)
        years = np.array([int(day[:4]) for day in days])
        expected_per_day = needed.sum(axis=0)
        covered_per_day = present.sum(axis=0)
        for year in np.unique(years):
            in_year = years == year
            rows.append(
                YearCoverage(
                    name,
                    int(year),
                    int(expected_per_day[in_year].sum()),
                    int(covered_per_day[in_year].sum()),
                )
            )
    return rows


def draw_heatmap(rows: list[YearCoverage], output: Path) -> None:
    """Draw the shares as an SVG heat map: one row per dataset, one column per year.

    Labels are dataset names, years and percentages only, because matplotlib's
    bundled font has no Chinese glyphs; the report's caption explains the picture.
    """
    # Imported here, so rules that never draw do not pay matplotlib's import time.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.ticker import PercentFormatter

    datasets = list(dict.fromkeys(row.dataset for row in rows))
    years = sorted({row.year for row in rows})
    shares = np.full((len(datasets), len(years)), np.nan)
    for row in rows:
        if row.expected:
            shares[datasets.index(row.dataset), years.index(row.year)] = row.share
    width = max(6.0, 0.42 * len(years) + 2.5)
    height = max(2.2, 0.55 * len(datasets) + 1.4)
    with pyplot.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tslake"}):
        figure, axes = pyplot.subplots(figsize=(width, height))
        colours = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#dddddd")
        image = axes.imshow(
            np.ma.masked_invalid(shares), cmap=colours, vmin=0.0, vmax=1.0, aspect="auto"
        )
        axes.set_xticks(range(len(years)), [str(year) for year in years], rotation=90)
        axes.set_yticks(range(len(datasets)), datasets)
        for (row_index, column_index), share in np.ndenumerate(shares):
            if np.isnan(share):
                continue
            label = "100" if share >= 1.0 else f"{min(share * 100, 99.9):.1f}"
            # The colour map is dark at both ends, so those cells get white text.
            colour = "white" if share >= 0.9 or share <= 0.1 else "black"
            axes.text(
                column_index, row_index, label, ha="center", va="center", fontsize=6, color=colour
            )
        figure.colorbar(image, ax=axes, format=PercentFormatter(1.0), fraction=0.04, pad=0.02)
        figure.tight_layout()
        output.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(output, format="svg", metadata={"Date": None})
        pyplot.close(figure)
