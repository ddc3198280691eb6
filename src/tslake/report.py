"""Messages the workflow prints to the user at the start and the end of a run."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tslake.catalog import build_catalog
from tslake.config import Settings
from tslake.parts import PartError, read_part_info
from tslake.planning import read_plan
from tslake.registry import DATASETS
from tslake.summary import format_run_summary
from tslake.validate import FINDING_NAMES


def print_up_to_date(run_record: str) -> None:
    """Say so when this invocation's plan already ran to the end, so Snakemake has nothing to do."""
    if Path(run_record).exists():
        print("数据湖已是最新：没有缺失的数据，本次不会调用任何数据接口。", flush=True)
        latest = Path(run_record).parent.parent / "reports" / "latest.md"
        if latest.exists():
            print(f"上次运行的报告：{latest}", flush=True)


def units_left_gaps(data_dir: Path, units: list[dict]) -> bool:
    """Return True if some part of these units left a planned day uncovered (a short day)."""
    for unit in units:
        path = data_dir / unit["dataset"] / f"{unit['unit_id']}.parquet"
        if path.exists() and read_part_info(path).notes.get("short_days"):
            return True
    return False


@dataclass
class RunOutcome:
    """Figures read from the parts of a run's plan: rows, calls, check findings and gaps."""

    rows: dict[str, int]  # rows added per dataset of the plan
    calls: dict[str, int]  # API calls per API, for the units whose part exists
    summary: str  # the closing line of `format_run_summary`
    findings: list[str] = field(default_factory=list)  # schema drift and invalid values
    missing: list[str] = field(default_factory=list)  # short days and retracted pairs


def _finding_lines(
    dataset: str, notes: dict, findings: Counter[tuple[str, str]], short: list
) -> None:
    for kind, value in notes.get("findings", {}).items():
        findings[(dataset, kind)] += int(value["count"])
    for item in notes.get("short_days", []):
        short.append((dataset, item))


def collect_outcome(settings: Settings, document: dict, record: dict) -> RunOutcome:
    """Read the parts of the plan's units (footers only) and the run record into a RunOutcome."""
    rows: Counter[str] = Counter({row["dataset"]: 0 for row in document["datasets"]})
    calls: Counter[str] = Counter()
    drift: dict[tuple[str, str], set[str]] = {}
    findings: Counter[tuple[str, str]] = Counter()
    short: list[tuple[str, dict]] = []
    for unit in document["units"]:
        path = settings.data_dir / unit["dataset"] / f"{unit['unit_id']}.parquet"
        if not path.exists():
            continue
        info = read_part_info(path)
        rows[unit["dataset"]] += info.rows
        calls[DATASETS[unit["dataset"]].api] += info.calls
        for kind, columns in info.notes.get("schema_drift", {}).items():
            drift.setdefault((unit["dataset"], kind), set()).update(columns)
        _finding_lines(unit["dataset"], info.notes, findings, short)
    outcome = RunOutcome(
        dict(rows), dict(calls), format_run_summary(document, dict(rows), sum(calls.values()))
    )
    for (dataset, kind), columns in sorted(drift.items()):
        names = "、".join(sorted(columns))
        if kind == "extra_columns":
            outcome.findings.append(
                f"注意：接口 {dataset} 返回了登记表中没有的列 {names}，已忽略。"
            )
        else:
            outcome.findings.append(f"注意：接口 {dataset} 缺少列 {names}，这些列存为空值。")
    for (dataset, kind), count in sorted(findings.items()):
        outcome.findings.append(
            f"注意：{dataset} 有 {count} 行{FINDING_NAMES[kind]}，已保留，详见该单元日志。"
        )
    for dataset, item in short:
        outcome.missing.append(
            f"注意：{dataset} 交易日 {item['day']} 预计约 {item['expected']} 行，只收到 {item['received']} 行，"
            "疑似未发布完整：未记为已覆盖，下次运行会重新下载。"
        )
    for dataset, value in sorted(record.get("consistency", {}).items()):
        outcome.missing.append(
            f"注意：{dataset} 缺少 {value['retracted'] + value['given_up']} 个在 daily 中存在的（股票, 交易日），"
            f"例如 {'、'.join(value['examples'])}；{value['retracted']} 个下次运行重新下载，"
            f"{value['given_up']} 个已多次重试仍缺失。"
        )
    return outcome


def print_run_summary(settings: Settings, plan_dir: str, run_record: str) -> None:
    """Print rows added per dataset, API calls, and what the checks found, once per run.

    Prints nothing when the run stopped before the catalog (for example `snakemake plan`).
    """
    if not Path(run_record).exists():
        return
    document = read_plan(Path(plan_dir))
    record = json.loads(Path(run_record).read_text(encoding="utf-8"))
    outcome = collect_outcome(settings, document, record)
    lines = [outcome.summary] + outcome.findings + outcome.missing
    print("\n".join(lines), flush=True)


def _last_error(log_file: Path) -> str:
    """Return the last error line a rule script logged, or a pointer to the log."""
    if not log_file.exists():
        return f"没有日志，请查看 Snakemake 的输出（{log_file}）"
    lines = [
        line
        for line in log_file.read_text(encoding="utf-8").splitlines()
        if " CRITICAL " in line or " ERROR " in line
    ]
    if not lines:
        return f"详见 {log_file}"
    return lines[-1].split(": ", 1)[-1]


@dataclass(frozen=True)
class StepFailure:
    """A failed fetch unit (`unit` is dataset/unit_id) or another failed step, with its error."""

    step: str
    error: str
    log_file: Path
    unit: str | None = None


def find_failures(
    settings: Settings, plan_dir: str, logs_dir: str, since: float
) -> list[StepFailure]:
    """Return the failed steps of a run: planned units without a part, and logs with an error."""
    plan_path = Path(plan_dir) / "plan.json"
    failed_units: set[Path] = set()
    if plan_path.exists():
        for unit in read_plan(Path(plan_dir))["units"]:
            if not (settings.data_dir / unit["dataset"] / f"{unit['unit_id']}.parquet").exists():
                failed_units.add(
                    Path(logs_dir) / "fetch" / unit["dataset"] / f"{unit['unit_id']}.log"
                )
    failures = []
    for log_file in sorted(Path(logs_dir).rglob("*.log")):
        if log_file.stat().st_mtime < since:
            continue
        error = _last_error(log_file)
        if log_file in failed_units:
            unit = f"{log_file.parent.name}/{log_file.stem}"
            failures.append(StepFailure(log_file.stem, error, log_file, unit))
        elif not error.startswith("详见"):
            failures.append(StepFailure(log_file.stem, error, log_file))
    return failures


def failure_lines(failures: list[StepFailure]) -> list[str]:
    """Return one Chinese line per failed step."""
    lines = []
    for failure in failures:
        if failure.unit is not None:
            lines.append(f"失败单元 {failure.unit}：{failure.error}（日志 {failure.log_file}）")
        else:
            lines.append(f"{failure.step} 失败：{failure.error}（日志 {failure.log_file}）")
    return lines


def rebuild_after_failure(settings: Settings, plan_dir: str) -> str | None:
    """Rebuild the catalog over the parts that exist, so datasets whose units succeeded stay
    queryable. Return a line with the outcome, or None when the run had no plan yet."""
    if not (Path(plan_dir) / "plan.json").exists():
        return None
    try:
        build_catalog(settings.data_dir, settings.catalog_path)
    except PartError as error:
        return f"目录 metadata.db 未能重建：{error}"
    return "目录 metadata.db 已按已下载的数据重建；其他数据集照常可用。"
