"""The catalog. Inputs: the plan and every part it asked for.
Outputs: <data_dir>/metadata.db (replaced atomically, so not declared: Snakemake would delete it
before the job starts) and the run record <data_dir>/.tslake/runs/<plan key>.json.
"""


def planned_parts(wildcards):
    """Return the part of every unit in this run's plan (the one aggregation point)."""
    plan_file = checkpoints.plan.get().output.plan
    units = read_plan(Path(plan_file).parent)["units"]
    return [f"{DATA}/{unit['dataset']}/{unit['unit_id']}.parquet" for unit in units]


# Rebuild the DuckDB catalog from the parts and replace the old one atomically.
rule build_catalog:
    input:
        plan=f"{PLAN_DIR}/plan.json",
        parts=planned_parts,
    output:
        RUN_RECORD,
    log:
        f"{LOGS}/build_catalog-{RUN.key}.log",
    message:
        "更新目录 metadata.db"
    script:
        "../../scripts/build_catalog.py"
