"""Rule refresh_reference: write today's stock_basic and trade_cal snapshots."""

import logging
from pathlib import Path

from tslake.config import load_settings
from tslake.logs import setup_logging
from tslake.reference import fetch_stock_basic, fetch_trade_cal, write_snapshot
from tslake.registry import STOCK_BASIC, TRADE_CAL
from tslake.runctx import make_client, run_context

snakemake = globals()["snakemake"]


def main() -> None:
    setup_logging(snakemake.log[0])
    settings = load_settings(snakemake.config)
    context = run_context(settings, snakemake.config)
    client = make_client(settings, label="参考数据")
    basics = fetch_stock_basic(client, settings.row_cap(STOCK_BASIC))
    calls_before = client.calls
    last_day = f"{context.now.year}1231"
    calendar = fetch_trade_cal(client, settings.row_cap(TRADE_CAL), last_day)
    # Both snapshots are written only once both downloads succeeded.
    write_snapshot(
        STOCK_BASIC, basics, Path(snakemake.output.stock_basic), context.run_date, calls_before
    )
    write_snapshot(
        TRADE_CAL,
        calendar,
        Path(snakemake.output.trade_cal),
        context.run_date,
        client.calls - calls_before,
    )
    logging.getLogger("tslake").info(
        "参考数据已刷新：%d 只股票，%d 个日历日", len(basics), len(calendar)
    )


main()
