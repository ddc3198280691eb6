"""Reference data. Inputs: none. Outputs: the stock_basic and trade_cal snapshots of the run date,
and the record of the disclosure days fetched for statement planning."""


# Refresh stock_basic (L, D and P) and the SSE calendar once per run date.
rule refresh_reference:
    output:
        stock_basic=f"{DATA}/stock_basic/snapshot-{RUN.run_date}.parquet",
        trade_cal=f"{DATA}/trade_cal/snapshot-{RUN.run_date}.parquet",
    log:
        f"{LOGS}/refresh_reference-{RUN.run_date}.log",
    # The client already retries each call; a restart would repeat calls that hit a quota.
    retries: 0
    # Local on a cluster too: the API rate limiter is a file lock on the submitting host.
    localrule: True
    conda:
        "../envs/tslake.yaml"
    resources:
        tushare_api=1,
    message:
        "刷新参考数据 stock_basic 与 trade_cal（{RUN.run_date}）"
    script:
        "../../scripts/refresh_reference.py"


# Fetch the disclosure days (disclosure_date by actual day) that tell which symbols
# announced statements since their last fetch; a no-op for groups without statements.
rule refresh_announcements:
    input:
        rules.refresh_reference.output,
    output:
        f"{PLAN_DIR}/announcements.json",
    log:
        f"{LOGS}/refresh_announcements-{RUN.key}.log",
    benchmark:
        f"{STATE}/benchmarks/{RUN.key}/refresh_announcements.tsv"
    # The client already retries each call; a restart would repeat calls that hit a quota.
    retries: 0
    localrule: True
    conda:
        "../envs/tslake.yaml"
    resources:
        tushare_api=1,
    message:
        "刷新财报披露日期（规划财务报表的增量下载）"
    script:
        "../../scripts/refresh_announcements.py"
