"""Keep a local Parquet + DuckDB copy of Tushare Pro data up to date, incrementally.

Pipeline: refresh reference data -> plan (checkpoint) -> fetch units -> compact -> catalog -> report.
"""

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


# The main target: this run's record, written once the catalog is up to date, and its report.
rule all:
    input:
        RUN_RECORD,
        f"{REPORTS}/run.md",
        f"{REPORTS}/coverage.svg",
    localrule: True


include: "workflow/rules/reference.smk"
include: "workflow/rules/plan.smk"
include: "workflow/rules/fetch.smk"
include: "workflow/rules/compact.smk"
include: "workflow/rules/catalog.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/validate.smk"
