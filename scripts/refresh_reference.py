"""Rule refresh_reference: write today's stock_basic and trade_cal snapshots."""

import logging
from pathlib import Path

from tslake.config import load_settings
from tslake.logs import setup_logging
from tslake.reference import fetch_stock_basic, fetch_trade_cal, write_snapshot
from tslake.registry import STOCK_BASIC, TRADE_CAL
from tslake.runctx import endpoint, run_context
from tslake.tushare_api import TushareClient, read_token

snakemake = globals()["snakemake"]


def main() -> None:
    setup_logging(snakemake.log[0])
    settings = load_settings(snakemake.config)
    context = run_context(settings, snakemake.config)
    limits = {api: settings.calls_per_minute(api) for api in (STOCK_BASIC.api, TRADE_CAL.api)}
    client = TushareClient(
        endpoint(settings), read_token(settings.source), limits, settings.timeout
    )
    basics = fetch_stock_basic(client, settings.row_cap(STOCK_BASIC))
    write_snapshot(
        STOCK_BASIC, basics, Path(snakemake.output.stock_basic), context.run_date, client.calls
    )
    calls_before = client.calls
    last_day = f"{context.now.year}1231"
    calendar = fetch_trade_cal(client, settings.row_cap(TRADE_CAL), last_day)
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
