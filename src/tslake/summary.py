"""Chinese summaries printed to users: the plan before fetching, the result after a run."""

from __future__ import annotations

import unicodedata
from typing import Any


def _minutes(calls: int, per_minute: int) -> float:
    return calls / per_minute if per_minute else 0.0


def _display_width(text: str) -> int:
    """Return the terminal columns of `text`: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _left(text: str, width: int) -> str:
    return text + " " * max(0, width - _display_width(text))


def _right(text: str, width: int) -> str:
    return " " * max(0, width - _display_width(text)) + text


def format_plan_summary(document: dict[str, Any]) -> str:
    """Return the plan summary: per dataset units, symbols, dates, calls and minutes, then totals."""
    lines = [f"数据更新计划（任务组 {document['group']}，时间 {document['now']} 上海时间）"]
    lines += [f"注意：{warning}" for warning in document.get("warnings", [])]
    rows = document["datasets"]
    if not any(row["units"] for row in rows):
        lines.append("无缺失数据：数据湖已是最新，本次不会调用任何数据接口。")
        return "\n".join(lines)
    width = max(12, *(len(row["dataset"]) + 2 for row in rows))
    header = (
        _left("数据集", width)
        + _right("单元", 6)
        + _right("股票数", 8)
        + "  "
        + _left("日期范围", 19)
        + _right("API调用", 9)
        + _right("下限", 7)
        + _right("预计分钟", 9)
    )
    lines.append(header)
    total_units = total_calls = 0
    total_minutes = 0.0
    for row in rows:
        if row["units"]:
            span = f"{row['first_missing']}–{row['last_missing']}"
        else:
            span = "无缺失"
        minutes = _minutes(row["calls"], row["calls_per_minute"])
        lines.append(
            f"{row['dataset']:<{width}}{row['units']:>6}{row['symbols']:>8}  {_left(span, 19)}"
            f"{row['calls']:>9}{row['lower_bound']:>7}{minutes:>9.1f}"
        )
        total_units += row["units"]
        total_calls += row["calls"]
        total_minutes = max(total_minutes, minutes)
    lines.append(f"合计：{total_units} 个单元，{total_calls} 次 API 调用，")
    lines[-1] += f"各接口并行时约需 {total_minutes:.1f} 分钟（按配置的每分钟调用上限估算）。"
    lines.append("“下限”为行数上限允许的最少调用次数。")
    return "\n".join(lines)


def format_run_summary(document: dict[str, Any], rows_added: dict[str, int], calls: int) -> str:
    """Return the closing lines of a run: rows added per dataset and the API calls made."""
    if not document["units"]:
        return "本次运行：无缺失数据，没有调用数据接口。数据湖已是最新。"
    parts = [f"{name} +{rows} 行" for name, rows in rows_added.items()]
    return f"本次运行：{'，'.join(parts)}；下载单元共调用数据接口 {calls} 次（不含参考数据）。"
