"""Fetch units. Inputs: one unit file of the plan. Outputs: one immutable part per unit."""


# Run one unit's API calls and write its rows and coverage as one Parquet part.
rule fetch_unit:
    input:
        fetch_inputs,
    output:
        f"{DATA}/{{dataset}}/{{unit}}.parquet",
    log:
        f"{LOGS}/fetch/{{dataset}}/{{unit}}.log",
    benchmark:
        f"{STATE}/benchmarks/{RUN.key}/fetch-{{dataset}}-{{unit}}.tsv"
    wildcard_constraints:
        dataset="|".join(PLANNED_DATASETS) or "none",
        unit=r"[ms]\d{8}-\d{8}-[0-9a-f]{10}",
    # The client already retries each call; a restart would repeat calls that hit a quota.
    retries: 0
    # Local on a cluster too: the API rate limiter is a file lock on the submitting host.
    localrule: True
    conda:
        "../envs/tslake.yaml"
    resources:
        tushare_api=1,
    message:
        "下载 {wildcards.dataset} 单元 {wildcards.unit}"
    script:
        "../../scripts/fetch_unit.py"
