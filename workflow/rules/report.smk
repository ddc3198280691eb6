"""The run report. Inputs: the plan and the run record. Outputs: the report (Markdown and HTML)
and the coverage heat map under <data_dir>/.tslake/reports/, all shown by `snakemake --report`.
"""


# Write the Chinese run report and draw the coverage by dataset and year.
rule report_run:
    input:
        plan=f"{PLAN_DIR}/plan.json",
        record=RUN_RECORD,
    output:
        markdown=f"{REPORTS}/run.md",
        html=report(
            f"{REPORTS}/run.html",
            caption="../report/run.rst",
            category="运行报告",
        ),
        coverage=report(
            f"{REPORTS}/coverage.svg",
            caption="../report/coverage.rst",
            category="覆盖率",
        ),
    log:
        f"{LOGS}/report_run-{RUN.key}.log",
    localrule: True
    conda:
        "../envs/tslake.yaml"
    message:
        "写运行报告和覆盖率热图"
    script:
        "../../scripts/report_run.py"
