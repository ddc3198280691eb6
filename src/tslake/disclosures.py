"""Refresh the disclosure index that statement planning reads: `disclosure_date` by actual day.

Only the days after the earliest statement as-of day (less the correction window)
are fetched, one whole-market call per day, into one part. A lake without any
statement coverage needs no index, because the first run requests every symbol in full.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

from tslake.announcements import announcement_end, day_calls, index_days, statement_asofs
from tslake.config import Settings
from tslake.coverage import read_parts
from tslake.fetch import fetch_unit
from tslake.planner import Unit, unit_id_of
from tslake.planning import group_codes
from tslake.registry import DATASETS, DISCLOSURE_DATE
from tslake.tushare_api import TushareClient
from tslake.universe import load_universe

log = logging.getLogger(__name__)


def refresh_disclosures(
    settings: Settings, now: datetime, client: TushareClient, record: Path
) -> dict[str, int]:
    """Fetch the missing index days, write the record file, and return days, calls and rows."""
    result = {"days": 0, "calls": 0, "rows": 0}
    statements = [DATASETS[name] for name in settings.statement_datasets]
    if statements:
        universe = load_universe(settings.data_dir)
        end = announcement_end(
            now, settings.publish_time(DISCLOSURE_DATE), DISCLOSURE_DATE.publish_lag_days
        )
        parts_by_dataset = {
            dataset.name: read_parts(settings.data_dir, dataset.name) for dataset in statements
        }
        asofs = statement_asofs(
            statements,
            parts_by_dataset,
            universe,
            group_codes(settings, universe),
            settings.start_date,
            end,
            settings.report_types,
        )
        index_parts = read_parts(settings.data_dir, DISCLOSURE_DATE.name)
        days = index_days(asofs, index_parts, settings.correction_days, end)
        if days:
            calls = [group[0] for group in day_calls(DISCLOSURE_DATE, days)]
            unit = Unit(
                DISCLOSURE_DATE.name,
                unit_id_of(DISCLOSURE_DATE.name, "market", calls),
                "market",
                tuple(calls),
            )
            output = settings.data_dir / DISCLOSURE_DATE.name / f"{unit.unit_id}.parquet"
            log.info("下载财报披露日期 %s–%s，共 %d 天", days[0], days[-1], len(days))
            rows = fetch_unit(
                unit,
                DISCLOSURE_DATE,
                client,
                settings.row_cap(DISCLOSURE_DATE),
                output,
                universe,
                settings.completeness_tolerance,
            )
            result = {"days": len(days), "calls": client.calls, "rows": rows}
        else:
            log.info("财报披露日期已是最新，无需下载")
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return result
