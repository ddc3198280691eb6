"""The validate target. Inputs: the parts on disk (metadata and the needed columns only).
Outputs: none; prints a Chinese summary per dataset and writes it to the log.
"""


# Run the data checks over the whole lake; `snakemake validate --cores 1`.
rule validate:
    log:
        f"{LOGS}/validate-{RUN.key}.log",
    conda:
        "../envs/tslake.yaml"
    message:
        "检查整个数据湖"
    script:
        "../../scripts/validate_lake.py"
