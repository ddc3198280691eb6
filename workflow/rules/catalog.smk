"""The catalog. Inputs: the plan and every part it asked for.
Outputs: <data_dir>/metadata.db (replaced atomically, so not declared: Snakemake would delete it
before the job starts) and the run record <data_dir>/.tslake/runs/<plan key>.json.
"""


# Rebuild the DuckDB catalog from the parts and replace the old one atomically.
rule build_catalog:
    input:
        plan=f"{PLAN_DIR}/plan.json",
        compaction=rules.compact.output,
    output:
        RUN_RECORD,
    log:
        f"{LOGS}/build_catalog-{RUN.key}.log",
    benchmark:
        f"{STATE}/benchmarks/{RUN.key}/build_catalog.tsv"
    conda:
        "../envs/tslake.yaml"
    message:
        "更新目录 metadata.db"
    script:
        "../../scripts/build_catalog.py"
