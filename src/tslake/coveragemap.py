"""Coverage by dataset and year: the share of expected (symbol, day) pairs the lake covers.

Expected pairs are the planner's needed pairs: for each symbol of the group, the
trading days from the later of `start_date` and its listing date to the earlier
of the dataset's end date and its delisting date. Covered pairs come from the
parts' own coverage, so a suspended stock's day counts once it was requested.

Announcement datasets count calendar days from `start_date` to the day each
symbol's announcements are needed until. A statement symbol also counts as covered
after its as-of day where the disclosure index shows it announced nothing since,
because the planner then has nothing to ask for it either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from tslake.announcements import (
    index_coverage_end,
    needed_until,
    read_announcers,
    statement_parts,
)
from tslake.clock import parse_yyyymmdd
from tslake.config import Settings
from tslake.coverage import asof_from_spans, covered_matrix, covered_spans, next_day, read_parts
from tslake.planner import needed_matrix
from tslake.planning import group_codes
from tslake.registry import ANNOUNCEMENT_INDEX, DATASETS
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
    rows: list[YearCoverage] = []
    rows += _announcement_coverage(settings, universe, selected, end_dates)
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


def _announcement_coverage(
    settings: Settings,
    universe: Universe,
    selected: tuple[str, ...] | None,
    end_dates: dict[str, str | None],
) -> list[YearCoverage]:
    index_parts = read_parts(settings.data_dir, ANNOUNCEMENT_INDEX)
    rows: list[YearCoverage] = []
    for name in settings.planned_datasets:
        dataset = DATASETS[name]
        end = end_dates.get(name)
        if not dataset.announcement or not end or end < settings.start_date:
            continue
        needed = needed_until(universe, selected, end)
        parts = read_parts(settings.data_dir, name)
        if dataset.report_types:
            parts = statement_parts(parts, settings.report_types)
        spans_by_code = covered_spans(parts, needed)
        quiet_until = _quiet_until(dataset.kind, spans_by_code, index_parts, settings.start_date)
        expected: dict[int, int] = {}
        covered: dict[int, int] = {}
        for code, need_end in needed.items():
            _add_days(expected, settings.start_date, need_end)
            spans = list(spans_by_code[code])
            if code in quiet_until:
                spans.append(quiet_until[code])
            for first, last in spans:
                low, high = max(first, settings.start_date), min(last, need_end)
                if low <= high:
                    _add_days(covered, low, high)
        rows += [
            YearCoverage(name, year, expected[year], min(covered.get(year, 0), expected[year]))
            for year in sorted(expected)
        ]
    return rows


def _quiet_until(
    kind: str,
    spans_by_code: dict[str, list[tuple[str, str]]],
    index_parts: list,
    start: str,
) -> dict[str, tuple[str, str]]:
    """Return, per statement symbol, the span after its as-of day in which it announced nothing."""
    if kind != "statement":
        return {}
    asofs = {code: asof_from_spans(spans, start) for code, spans in spans_by_code.items()}
    known = [day for day in asofs.values() if day is not None]
    if not known:
        return {}
    first = next_day(min(known))
    index_end = index_coverage_end(index_parts, first)
    if index_end is None:
        return {}
    announcers = read_announcers(index_parts, min(known), index_end)
    quiet = {}
    for code, day in asofs.items():
        # A symbol with a hole (coverage after its as-of day) is asked again anyway.
        if day is None or day >= index_end or spans_by_code[code][-1][1] != day:
            continue
        if not any(day < announced <= index_end for announced in announcers.get(code, [])):
            quiet[code] = (next_day(day), index_end)
    return quiet


def _add_days(counts: dict[int, int], first: str, last: str) -> None:
    """Add the calendar days of [first, last] to `counts`, by year."""
    low, high = parse_yyyymmdd(first), parse_yyyymmdd(last)
    for year in range(low.year, high.year + 1):
        year_low = max(low, date(year, 1, 1))
        year_high = min(high, date(year, 12, 31))
        counts[year] = counts.get(year, 0) + (year_high - year_low).days + 1


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
