"""Compaction. Inputs: every part of this run's plan. Outputs: the compaction record of the run;
the period files it writes replace small parts (see tslake.compaction).
"""


# Merge small parts into period files (closed years, closed months, the current month).
rule compact:
    input:
        plan=f"{PLAN_DIR}/plan.json",
        parts=planned_parts,
    output:
        f"{STATE}/compactions/{RUN.key}.json",
    log:
        f"{LOGS}/compact-{RUN.key}.log",
    benchmark:
        f"{STATE}/benchmarks/{RUN.key}/compact.tsv"
    conda:
        "../envs/tslake.yaml"
    resources:
        mem_mb=4096,
    message:
        "把小文件整理为按年、按月的时段文件"
    script:
        "../../scripts/compact_lake.py"
