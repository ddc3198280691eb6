"""Validate the workflow configuration and turn it into typed settings.

Every error names the offending key and how to fix it, in Chinese,
because it is the first thing a user sees when a run stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tslake.clock import parse_now, parse_yyyymmdd
from tslake.registry import ANNOUNCEMENT_INDEX, DATASETS, REFERENCE_DATASETS, Dataset
from tslake.universe import CODE_PATTERN, EXCHANGES

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """An invalid configuration value; the message is meant for the user."""


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one run."""

    data_dir: Path
    group: str
    datasets: tuple[str, ...]
    symbols: tuple[str, ...] | None  # None selects the whole market
    start_date: str
    source: str
    tushare_url: str
    now: datetime | None
    replay_dir: Path | None
    sim_symbols: int
    sim_seed: int
    rate_limit: int
    rate_limits: dict[str, int]
    row_caps: dict[str, int]
    publish_times: dict[str, time]
    calls_per_job: int
    max_jobs: int
    timeout: float
    retries: int
    retry_wait: float
    rate_limit_wait: float
    completeness_tolerance: float
    # Days after an announcement during which a statement symbol is asked again, so
    # that restatements published soon after a report are found at once.
    correction_days: int = 3
    # report_type values fetched for income, balancesheet and cashflow (one call each).
    report_types: tuple[str, ...] = ("1",)
    # Exchanges whose stocks the group selects (stock_basic `exchange`); None: no exchange filter.
    exchanges: tuple[str, ...] | None = None
    # Seconds between progress lines of a fetch job.
    progress_interval: float = 10.0

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "metadata.db"

    @property
    def state_dir(self) -> Path:
        """Folder for plans, logs and the local server's files (not data)."""
        return self.data_dir / ".tslake"

    @property
    def daily_datasets(self) -> tuple[str, ...]:
        return tuple(name for name in self.datasets if DATASETS[name].kind == "daily")

    @property
    def planned_datasets(self) -> tuple[str, ...]:
        """Return the group's datasets the planner fills: all but the reference snapshots."""
        return tuple(name for name in self.datasets if DATASETS[name].kind != "snapshot")

    @property
    def statement_datasets(self) -> tuple[str, ...]:
        return tuple(name for name in self.datasets if DATASETS[name].kind == "statement")

    @property
    def compacted_datasets(self) -> tuple[str, ...]:
        """Return the planned datasets plus the announcement index that statements need."""
        names = self.planned_datasets
        if self.statement_datasets and ANNOUNCEMENT_INDEX not in names:
            names += (ANNOUNCEMENT_INDEX,)
        return names

    def row_cap(self, dataset: Dataset) -> int:
        return self.row_caps.get(dataset.api, dataset.row_cap)

    def calls_per_minute(self, api: str) -> int:
        return self.rate_limits.get(api, self.rate_limit)

    def publish_time(self, dataset: Dataset) -> time:
        if dataset.name in self.publish_times:
            return self.publish_times[dataset.name]
        if dataset.publish_time is None:
            raise ValueError(f"dataset {dataset.name} has no publication time")
        return dataset.publish_time


def load_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


TYPE_NAMES = {
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "object": "映射（YAML 字典）",
    "array": "列表",
    "null": "空值",
}


def _schema_message(error: jsonschema.ValidationError) -> str:
    """Turn a JSON-schema error into a Chinese message naming the key and the fix."""
    key = ".".join(str(part) for part in error.absolute_path) or "(顶层)"
    value = error.instance
    if error.validator == "additionalProperties":
        allowed = error.schema.get("properties", {})
        unknown = ", ".join(sorted(set(value) - set(allowed)))
        where = f"{key}." if error.absolute_path else ""
        hint = f"可用的配置项：{', '.join(allowed)}" if allowed else "请检查拼写"
        return f"未知配置项 {where}{unknown}：请删除或改正它。{hint}。"
    if error.validator == "enum":
        choices = ", ".join(str(item) for item in error.validator_value)
        return f"配置项 {key} 的值 {value!r} 无效：应为 {choices} 之一。"
    if error.validator == "required":
        return f"缺少配置项：{error.message}。请在 config/config.yaml 中补上。"
    if error.validator == "type" and value is None:
        return f"配置项 {key} 不能为空。请填写后重试。"
    if error.validator == "type":
        kinds = (
            error.validator_value
            if isinstance(error.validator_value, list)
            else [error.validator_value]
        )
        expected = "或".join(TYPE_NAMES.get(kind, kind) for kind in kinds)
        return f"配置项 {key} 的值 {value!r} 类型无效：应为{expected}。请改正后重试。"
    if error.validator in ("minimum", "exclusiveMinimum", "maximum"):
        relation = {"minimum": "不小于", "exclusiveMinimum": "大于", "maximum": "不大于"}[
            error.validator
        ]
        return f"配置项 {key} 的值 {value!r} 无效：应{relation} {error.validator_value}。"
    if error.validator in ("minLength", "minItems", "minProperties"):
        return f"配置项 {key} 不能为空。请填写后重试。"
    if error.validator == "oneOf":
        return _symbols_message(key, value)
    return f"配置项 {key} 的值 {value!r} 无效（{error.message}）。请改正后重试。"


def _symbols_message(key: str, value: object) -> str:
    """Explain the forms a group's `symbols` may take, for a value that matches none of them."""
    forms = (
        "all（全市场）；ts_code 列表，如 [600000.SH, 000001.SZ]；"
        f"{{exchanges: [...]}}，交易所可选 {'、'.join(EXCHANGES)}；"
        "{file: 代码文件路径}，文件每行一个 ts_code"
    )
    if isinstance(value, dict) and isinstance(value.get("exchanges"), list):
        unknown = [name for name in value["exchanges"] if name not in EXCHANGES]
        if unknown:
            return (
                f"配置项 {key} 含未知交易所 {'、'.join(map(str, unknown))}：可选 "
                f"{'、'.join(EXCHANGES)}（上交所、深交所、北交所），请改正后重试。"
            )
    return f"配置项 {key} 的值 {value!r} 无效：应为以下写法之一：{forms}。"


def read_code_file(path: Path, key: str) -> tuple[str, ...]:
    """Read a file of ts_code values, one per line; `#` starts a comment.

    Raises ConfigError naming the file, the line and the fix.
    """
    if not path.is_file():
        raise ConfigError(
            f"配置项 {key} 指向的代码文件 {str(path)!r} 不存在：请创建它（每行一个 ts_code，"
            "# 之后为注释），或改正路径（相对路径以运行 snakemake 的工作目录为准）。"
        )
    codes = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        code = line.split("#", 1)[0].strip()
        if not code:
            continue
        if not CODE_PATTERN.match(code):
            raise ConfigError(
                f"代码文件 {path} 第 {number} 行的代码 {code!r} 无效（配置项 {key}）："
                "应形如 600000.SH、000001.SZ、430047.BJ，每行一个；请改正或删除该行。"
            )
        codes.append(code)
    if not codes:
        raise ConfigError(
            f"代码文件 {path} 中没有任何 ts_code（配置项 {key}）：请每行写一个代码，例如 600000.SH。"
        )
    return tuple(sorted(set(codes)))


def _check_date(key: str, value: object) -> str:
    text = str(value).strip()
    try:
        parse_yyyymmdd(text)
    except ValueError:
        raise ConfigError(
            f"配置项 {key} 的值 {value!r} 不是有效日期：请写成 YYYYMMDD，例如 20100104。"
        ) from None
    return text


def _check_time(key: str, value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"配置项 {key} 的值 {value!r} 不是有效时间：请写成 HH:MM（上海时间），例如 17:00。"
        ) from None


def _check_groups(groups: dict[str, Any]) -> None:
    """Check every group, not only the selected one, so a typo shows up on the next run."""
    for name, spec in groups.items():
        for dataset in spec["datasets"]:
            if dataset not in DATASETS:
                known = ", ".join(DATASETS)
                raise ConfigError(
                    f"配置项 groups.{name}.datasets 含未知数据集 {dataset!r}：可用的数据集有 {known}。"
                )


@dataclass(frozen=True)
class GroupMembers:
    """The datasets of a group and its symbol selection."""

    datasets: tuple[str, ...]
    # Explicit codes (a list or a code file); None selects by `exchanges` or the whole market.
    symbols: tuple[str, ...] | None
    exchanges: tuple[str, ...] | None


def _group_members(raw: dict[str, Any], group: str, base: Path) -> GroupMembers:
    groups = raw["groups"]
    _check_groups(groups)
    if group not in groups:
        known = ", ".join(groups)
        raise ConfigError(
            f"配置项 group 的值 {group!r} 不是已定义的任务组：可用的任务组有 {known}；"
            "或在 config/config.yaml 的 groups 下定义它。"
        )
    spec = groups[group]
    # Reference data is always refreshed, because the planner needs it.
    ordered = list(REFERENCE_DATASETS) + [
        n for n in spec["datasets"] if n not in REFERENCE_DATASETS
    ]
    datasets = tuple(ordered)
    symbols_value = spec.get("symbols", "all")
    key = f"groups.{group}.symbols"
    if symbols_value == "all":
        return GroupMembers(datasets, None, None)
    if isinstance(symbols_value, dict) and "exchanges" in symbols_value:
        exchanges = tuple(sorted(set(symbols_value["exchanges"])))
        return GroupMembers(datasets, None, exchanges)
    if isinstance(symbols_value, dict):
        path = base / str(symbols_value["file"])
        return GroupMembers(datasets, read_code_file(path, f"{key}.file"), None)
    for code in symbols_value:
        if not CODE_PATTERN.match(str(code)):
            raise ConfigError(f"配置项 {key} 含无效代码 {code!r}：应形如 600000.SH、000001.SZ。")
    return GroupMembers(datasets, tuple(sorted(set(symbols_value))), None)


def _check_names(key: str, mapping: dict[str, Any], known: set[str]) -> None:
    for name in mapping:
        if name not in known:
            raise ConfigError(
                f"配置项 {key} 含未知接口或数据集 {name!r}：可用的名称有 {', '.join(sorted(known))}。"
            )


def _coerce_numbers(raw: dict[str, Any]) -> dict[str, Any]:
    """Turn digit strings inside nested maps into ints.

    Snakemake parses nested `--config` values as YAML strings, so
    `--config sim="{symbols: 50}"` would otherwise fail the schema.
    """
    result = dict(raw)
    for key in ("sim", "rate_limits", "row_caps"):
        value = result.get(key)
        if isinstance(value, dict):
            result[key] = {
                name: int(item) if isinstance(item, str) and item.isdigit() else item
                for name, item in value.items()
            }
    return result


def load_settings(raw: dict[str, Any], base_dir: Path | None = None) -> Settings:
    """Validate `raw` (the merged Snakemake config) and return typed settings.

    Relative paths are taken from `base_dir` (the working directory by default).
    Raises ConfigError with a Chinese message naming the key and the fix.
    """
    raw = _coerce_numbers(raw)
    schema = load_schema()
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(raw), key=lambda e: e.path)
    if errors:
        raise ConfigError(_schema_message(errors[0]))
    base = base_dir or Path.cwd()
    start_date = _check_date("start_date", raw["start_date"])
    now_value = raw.get("now")
    now = None
    if now_value not in (None, ""):
        try:
            now = parse_now(now_value)
        except ValueError:
            raise ConfigError(
                f"配置项 now 的值 {now_value!r} 不是有效时间：请写成 ISO 格式的上海时间，"
                "例如 2026-12-04T20:00；留空则使用系统时钟。"
            ) from None
    members = _group_members(raw, str(raw["group"]), base)
    known_names = set(DATASETS) | {dataset.api for dataset in DATASETS.values()}
    _check_names("rate_limits", raw.get("rate_limits", {}), known_names)
    _check_names("row_caps", raw.get("row_caps", {}), known_names)
    _check_names("publish_times", raw.get("publish_times", {}), known_names)
    publish_times = {
        name: _check_time(f"publish_times.{name}", str(value))
        for name, value in raw.get("publish_times", {}).items()
    }
    source = raw["source"]
    replay_dir = None
    if source == "replay":
        if not raw.get("replay_dir"):
            raise ConfigError("source 为 replay 时必须设置 replay_dir：录制数据所在的目录。")
        replay_dir = (base / raw["replay_dir"]).resolve()
        if not replay_dir.is_dir():
            raise ConfigError(
                f"配置项 replay_dir 指向的目录 {str(replay_dir)!r} 不存在：请改为录制数据所在的目录。"
            )
    sim = raw.get("sim", {})
    return Settings(
        data_dir=(base / raw["data_dir"]).resolve(),
        group=str(raw["group"]),
        datasets=members.datasets,
        symbols=members.symbols,
        start_date=start_date,
        source=source,
        tushare_url=str(raw["tushare_url"]),
        now=now,
        replay_dir=replay_dir,
        sim_symbols=int(sim.get("symbols", 200)),
        sim_seed=int(sim.get("seed", 20261204)),
        rate_limit=int(raw.get("rate_limit", 500)),
        rate_limits=dict(raw.get("rate_limits", {})),
        row_caps=dict(raw.get("row_caps", {})),
        publish_times=publish_times,
        calls_per_job=int(raw.get("calls_per_job", 40)),
        max_jobs=int(raw.get("max_jobs", 150)),
        timeout=float(raw.get("timeout", 30)),
        retries=int(raw.get("retries", 5)),
        retry_wait=float(raw.get("retry_wait", 2)),
        rate_limit_wait=float(raw.get("rate_limit_wait", 60)),
        completeness_tolerance=float(raw.get("completeness_tolerance", 0.2)),
        correction_days=int(raw.get("correction_days", 3)),
        report_types=tuple(sorted({str(value) for value in raw.get("report_types", ["1"])})),
        exchanges=members.exchanges,
        progress_interval=float(raw.get("progress_interval", 10)),
    )
