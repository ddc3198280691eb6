"""The plan checkpoint. Inputs: reference snapshots and the parts on disk (metadata only).
Outputs: plan.json and summary.txt in the plan folder, plus one units/<dataset>/<unit>.json per unit.
"""


# Compare coverage with what the group needs and choose the cheapest fetch units.
checkpoint plan:
    input:
        rules.refresh_reference.output,
        rules.refresh_announcements.output,
    output:
        plan=f"{PLAN_DIR}/plan.json",
        summary=f"{PLAN_DIR}/summary.txt",
    log:
        f"{LOGS}/plan-{RUN.key}.log",
    benchmark:
        f"{STATE}/benchmarks/{RUN.key}/plan.tsv"
    localrule: True
    conda:
        "../envs/tslake.yaml"
    message:
        "规划需要下载的数据"
    script:
        "../../scripts/make_plan.py"
