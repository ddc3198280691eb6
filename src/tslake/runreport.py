"""The Chinese report that ends every run: rows and calls, run time, what is still missing, failures.

A successful run writes it in the `report_run` rule (with the coverage heat map),
and the main process prints it and saves a copy. A failed run has no such job,
so the main process builds the report itself. Both copies go to
`<data_dir>/.tslake/reports/<time>-<plan key>.md` and `reports/latest.md`.
"""

from __future__ import annotations

import html
import json
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tslake.clock import SHANGHAI
from tslake.config import Settings
from tslake.coverage import read_parts
from tslake.coveragemap import YearCoverage
from tslake.progress import format_duration
from tslake.registry import ANNOUNCEMENT_INDEX, DATASETS, REFERENCE_DATASETS
from tslake.report import RunOutcome, StepFailure, collect_outcome, failure_lines
from tslake.tushare_api import NO_PERMISSION_TEXT
from tslake.universe import Universe

LATEST = "latest.md"
# The report that the report_run rule writes; the Snakefile names the same file.
RUN_REPORT = "run.md"


@dataclass
class Section:
    """A titled part of the report: bullet lines, an optional table and an optional command."""

    title: str
    lines: list[str] = field(default_factory=list)
    header: list[str] | None = None
    table: list[list[str]] = field(default_factory=list)
    command: str | None = None


@dataclass
class RunReport:
    """The report of one run, rendered to Markdown for the terminal and files, or to HTML."""

    title: str
    facts: list[str]
    sections: list[Section]


def reports_dir(settings: Settings) -> Path:
    return settings.state_dir / "reports"


def start_file(settings: Settings) -> Path:
    return settings.state_dir / "run-started.json"


def record_run_start(settings: Settings, started: float) -> None:
    """Store when the run holding the lock started, for the run time in its report."""
    path = start_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"started": started, "pid": os.getpid()}), encoding="utf-8")


def read_run_start(settings: Settings) -> float | None:
    path = start_file(settings)
    if not path.exists():
        return None
    return float(json.loads(path.read_text(encoding="utf-8"))["started"])


def rerun_command() -> str:
    """Return the command line of this Snakemake process, to run the same thing again."""
    return shlex.join(["snakemake", *sys.argv[1:]])


def _clock_text(moment: float) -> str:
    return datetime.fromtimestamp(moment, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def reference_calls(settings: Settings, since: float | None) -> dict[str, int]:
    """Return the API calls of the parts written since `since` (epoch seconds) outside the plan:
    the reference snapshots, and the disclosure index unless the group plans it itself."""
    calls: dict[str, int] = {}
    if since is None:
        return calls
    names = list(REFERENCE_DATASETS)
    if ANNOUNCEMENT_INDEX not in settings.planned_datasets:
        names.append(ANNOUNCEMENT_INDEX)
    for name in names:
        for part in read_parts(settings.data_dir, name):
            if datetime.fromisoformat(part.fetched_at).timestamp() >= since:
                api = DATASETS[name].api
                calls[api] = calls.get(api, 0) + part.calls
    return calls


def publication_lines(
    settings: Settings, universe: Universe, now: datetime, end_dates: dict[str, str | None]
) -> list[str]:
    """Return a line per dataset whose data of today is not published yet at `now`."""
    today = now.astimezone(SHANGHAI).strftime("%Y%m%d")
    if today not in set(universe.open_days.tolist()):
        return []
    lines = []
    for name in settings.planned_datasets:
        dataset = DATASETS[name]
        end = end_dates.get(name)
        if dataset.announcement:
            if end is not None:
                moment = settings.publish_time(dataset).strftime("%H:%M")
                lines.append(
                    f"{name}：公告在发布后第 {dataset.publish_lag_days} 天 {moment}（上海时间）"
                    f"后才计为已覆盖，本次截至 {end}。"
                )
            continue
        if end is not None and end < today:
            moment = settings.publish_time(DATASETS[name]).strftime("%H:%M")
            lines.append(
                f"{name}：今天（{today}）的数据 {moment}（上海时间）后才发布完整，"
                "本次不下载，下次运行会补上。"
            )
    return lines


def _reason(error: str) -> str:
    """Name the cause of a failed unit from its error message (see tslake.tushare_api.classify)."""
    if NO_PERMISSION_TEXT in error:
        return "没有接口权限"
    if "调用次数已用完" in error:
        return "接口调用额度已用完"
    return "下载失败"


def _coverage_section(coverage: list[YearCoverage]) -> tuple[Section, list[str]]:
    """Return the coverage table per dataset and a line per dataset with uncovered pairs."""
    section = Section(
        "覆盖率",
        lines=[
            "应有的（股票, 交易日）：每只股票从上市日（不早于 start_date）到退市日（不晚于截止日期）的交易日。",
            "公告类数据集（财务报表、分红）按日历日计算，从 start_date 到截止日期（退市股票到退市日）。",
        ],
        header=["数据集", "年份范围", "应有", "已覆盖", "覆盖率"],
    )
    gaps = []
    for name in dict.fromkeys(row.dataset for row in coverage):
        rows = [row for row in coverage if row.dataset == name]
        expected = sum(row.expected for row in rows)
        covered = sum(row.covered for row in rows)
        share = covered / expected if expected else 1.0
        span = f"{rows[0].year}–{rows[-1].year}"
        section.table.append([name, span, str(expected), str(covered), f"{share:.2%}"])
        if covered < expected:
            years = "、".join(str(row.year) for row in rows if row.covered < row.expected)
            gaps.append(f"{name}：还缺 {expected - covered} 个（股票, 交易日），在 {years} 年。")
    return section, gaps


def build_report(
    settings: Settings,
    now: datetime,
    key: str,
    *,
    document: dict | None,
    record: dict | None,
    started: float | None,
    finished: float,
    universe: Universe | None = None,
    coverage: list[YearCoverage] | None = None,
    failures: list[StepFailure] | None = None,
    closing: list[str] | None = None,
) -> RunReport:
    """Assemble the report of a run from its plan, run record, parts, coverage and failures.

    `document` is None when the run failed before its plan existed; `failures` is
    None for a run that succeeded. `closing` lines end the failure section.
    """
    failed = failures is not None
    title = "tslake 运行报告：" + ("本次运行未全部完成" if failed else "成功")
    facts = [
        f"任务组：{settings.group}（数据集 {'、'.join(settings.planned_datasets) or '无'}）",
        f"数据时间：{now.astimezone(SHANGHAI).strftime('%Y-%m-%d %H:%M')}（上海时间）；计划 {key}",
    ]
    if started is not None:
        facts.append(
            f"开始 {_clock_text(started)}，结束 {_clock_text(finished)}（上海时间），"
            f"用时 {format_duration(finished - started)}"
        )
    sections = []
    outcome: RunOutcome | None = None
    if document is not None:
        outcome = collect_outcome(settings, document, record or {})
        sections.append(_rows_section(outcome))
        sections.append(_calls_section(outcome, reference_calls(settings, started)))
    missing = Section("仍缺少的数据")
    if coverage:
        coverage_section, gaps = _coverage_section(coverage)
        sections.append(coverage_section)
        missing.lines += gaps
    if universe is not None and document is not None:
        missing.lines += publication_lines(settings, universe, now, document["end_dates"])
    if document is not None:
        missing.lines += [f"计划提示：{warning}" for warning in document.get("warnings", [])]
    if outcome is not None:
        missing.lines += outcome.missing
    failed_datasets = {
        (failure.unit.split("/")[0], _reason(failure.error))
        for failure in failures or []
        if failure.unit
    }
    for dataset, reason in sorted(failed_datasets):
        missing.lines.append(f"{dataset}：{reason}，本次未下载完，原因和改法见“失败的步骤”。")
    if not missing.lines:
        missing.lines.append("无：到各数据集的截止日期为止，应有的数据都已下载。")
    sections.append(missing)
    if outcome is not None and outcome.findings:
        sections.append(Section("检查发现", lines=outcome.findings))
    if failed:
        section = Section("失败的步骤", lines=failure_lines(failures or []))
        section.lines += closing or []
        section.lines.append("问题解决后重新运行 snakemake，只会下载仍然缺失的部分：")
        section.command = rerun_command()
        sections.append(section)
    return RunReport(title, facts, sections)


def _rows_section(outcome: RunOutcome) -> Section:
    section = Section("新增数据", lines=[outcome.summary], header=["数据集", "新增行数"])
    section.table = [[name, str(rows)] for name, rows in outcome.rows.items()]
    return section


def _calls_section(outcome: RunOutcome, reference: dict[str, int]) -> Section:
    calls = {**reference, **outcome.calls}
    section = Section("接口调用", header=["接口", "调用次数"])
    section.table = [[api, str(count)] for api, count in calls.items()]
    section.table.append(["合计", str(sum(calls.values()))])
    section.lines.append("按分片记录的调用次数（含拆分与重试）；失败的单元没有分片，其调用不计入。")
    return section


def to_markdown(report: RunReport) -> str:
    """Render the report as Markdown, which also reads well in a terminal."""
    lines = [f"# {report.title}", ""]
    lines += [f"- {fact}" for fact in report.facts]
    for section in report.sections:
        lines += ["", f"## {section.title}", ""]
        lines += [f"- {line}" for line in section.lines]
        if section.header:
            if section.lines:
                lines.append("")
            lines.append("| " + " | ".join(section.header) + " |")
            lines.append("|" + "---|" * len(section.header))
            lines += ["| " + " | ".join(row) + " |" for row in section.table]
        if section.command:
            lines += ["", f"    {section.command}"]
    return "\n".join(lines) + "\n"


def to_html(report: RunReport) -> str:
    """Render the report as a standalone HTML page, for `snakemake --report`."""
    escape = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{escape(report.title)}</title>",
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}</style>",
        "</head><body>",
        f"<h1>{escape(report.title)}</h1>",
        "<ul>" + "".join(f"<li>{escape(fact)}</li>" for fact in report.facts) + "</ul>",
    ]
    for section in report.sections:
        parts.append(f"<h2>{escape(section.title)}</h2>")
        if section.lines:
            parts.append("<ul>" + "".join(f"<li>{escape(line)}</li>" for line in section.lines))
            parts.append("</ul>")
        if section.header:
            parts.append("<table><tr>")
            parts.append("".join(f"<th>{escape(cell)}</th>" for cell in section.header) + "</tr>")
            for row in section.table:
                parts.append("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>")
            parts.append("</table>")
        if section.command:
            parts.append(f"<pre>{escape(section.command)}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def save_report(settings: Settings, key: str, text: str, finished: float | None = None) -> Path:
    """Save the Markdown report as `reports/<time>-<key>.md` and `reports/latest.md`; return the first."""
    moment = datetime.fromtimestamp(finished or time.time(), SHANGHAI)
    path = reports_dir(settings) / f"{moment.strftime('%Y%m%d-%H%M%S')}-{key}.md"
    _write_text(path, text)
    _write_text(reports_dir(settings) / LATEST, text)
    return path
