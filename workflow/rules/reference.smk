"""Reference data. Inputs: none. Outputs: the stock_basic and trade_cal snapshots of the run date."""


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
