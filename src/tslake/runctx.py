"""The run context that every job of one invocation shares: the clock, the plan key, the server URL.

The Snakefile is parsed again in every job process. The first parse, in the
main Snakemake process, computes the run context and stores it in the
environment. Job processes inherit it, so all of them see the same `now` and
plan key even though parts appear on disk while the run goes on.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tslake.clock import SHANGHAI, current_time, parse_now, publication_epoch
from tslake.config import ConfigError, Settings
from tslake.coverage import parts_fingerprint
from tslake.registry import DATASETS
from tslake.tushare_api import RetryPolicy, TushareClient, read_token

RUN_ENV = "TSLAKE_RUN"
SERVER_URL_ENV = "TSLAKE_SERVER_URL"


@dataclass(frozen=True)
class RunContext:
    """The clock of this invocation and the key that names its plan."""

    now: datetime
    key: str
    base: str

    @property
    def run_date(self) -> str:
        return self.now.astimezone(SHANGHAI).strftime("%Y%m%d")


def _base_key(settings: Settings, raw_config: dict, now: datetime) -> str:
    """Hash what a plan depends on besides the parts: the config and the publication epoch."""
    publish_times = [settings.publish_time(DATASETS[name]) for name in settings.planned_datasets]
    relevant = {key: value for key, value in raw_config.items() if key != "now"}
    digest = hashlib.sha256()
    digest.update(json.dumps(relevant, sort_keys=True, default=str).encode())
    # A moved data folder needs a new catalog, because the views name files by absolute path.
    digest.update(str(settings.data_dir).encode())
    # The config names a code file only by its path, so its codes are hashed too.
    if settings.symbols is not None:
        digest.update(",".join(settings.symbols).encode())
    digest.update(publication_epoch(now, publish_times).encode())
    return digest.hexdigest()[:12]


def last_run_file(settings: Settings) -> Path:
    return settings.state_dir / "last_run.json"


def _write_json(path: Path, value: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, path)


def record_finished_run(
    settings: Settings,
    context: RunContext,
    rows: dict[str, int],
    record_path: Path,
    consistency: dict[str, dict[str, object]] | None = None,
    complete: bool = True,
) -> None:
    """Write the run record and remember the lake as this run left it.

    An identical next invocation (same config and publication epoch, parts
    unchanged) then reuses this run's plan key and finds nothing to do, unless
    the run left gaps (`complete` False) that the next run must plan again.
    """
    record = {
        "key": context.key,
        "base": context.base,
        "now": context.now.isoformat(),
        "fingerprint": parts_fingerprint(settings.data_dir, settings.planned_datasets),
        "catalog_rows": rows,
        "consistency": consistency or {},
        "complete": complete,
    }
    _write_json(record_path, record)
    _write_json(last_run_file(settings), record)


def remove_old_plans(settings: Settings, keep: str) -> None:
    """Delete the plan folders of earlier runs; the parts, not the plans, record what was fetched."""
    plans = settings.state_dir / "plans"
    if not plans.is_dir():
        return
    for folder in plans.iterdir():
        if folder.name != keep and folder.is_dir():
            shutil.rmtree(folder)


def _plan_key(settings: Settings, base: str) -> str:
    """Name the plan after the base key and the parts on disk.

    When the parts are exactly what the last finished run with the same base
    left behind, its key is reused: that plan is still right, and Snakemake
    then finds nothing to do.
    """
    fingerprint = parts_fingerprint(settings.data_dir, settings.planned_datasets)
    path = last_run_file(settings)
    # A missing catalog must be rebuilt, so the finished run's key is not reused then.
    if path.exists() and settings.catalog_path.exists():
        record = json.loads(path.read_text(encoding="utf-8"))
        unchanged = record.get("base") == base and record.get("fingerprint") == fingerprint
        if unchanged and record.get("complete", True):
            return str(record["key"])
    return hashlib.sha256(f"{base}:{fingerprint}".encode()).hexdigest()[:12]


def run_context(settings: Settings, raw_config: dict) -> RunContext:
    """Return this invocation's context, computing it once and sharing it through the environment."""
    stored = os.environ.get(RUN_ENV)
    if stored:
        value = json.loads(stored)
        if value.get("data_dir") == str(settings.data_dir):
            return RunContext(parse_now(value["now"]), value["key"], value["base"])
    now = current_time(settings.now)
    base = _base_key(settings, raw_config, now)
    context = RunContext(now, _plan_key(settings, base), base)
    os.environ[RUN_ENV] = json.dumps(
        {
            "now": now.isoformat(),
            "key": context.key,
            "base": base,
            "data_dir": str(settings.data_dir),
            "main_pid": os.getpid(),
        }
    )
    return context


def main_pid() -> int | None:
    """Return the PID of the main Snakemake process of this run, when known."""
    stored = os.environ.get(RUN_ENV)
    if not stored:
        return None
    value = json.loads(stored).get("main_pid")
    return int(value) if value else None


def is_main_process() -> bool:
    """Return True before `run_context` stored the context, i.e. in the first parse of the Snakefile."""
    return RUN_ENV not in os.environ


def make_client(settings: Settings, label: str) -> TushareClient:
    """Return a client for this run's endpoint, paced by the limiter shared by all its jobs."""
    return TushareClient(
        endpoint(settings),
        read_token(settings.source),
        {dataset.api: settings.calls_per_minute(dataset.api) for dataset in DATASETS.values()},
        settings.timeout,
        limiter_folder=settings.state_dir / "ratelimit",
        policy=RetryPolicy(
            retries=settings.retries,
            first_wait=settings.retry_wait,
            rate_limit_wait=settings.rate_limit_wait,
        ),
        points={dataset.api: dataset.points for dataset in DATASETS.values()},
        label=label,
        watch_pid=main_pid(),
    )


def source_identity(settings: Settings) -> dict[str, object]:
    """Describe where the data comes from; a lake must never mix two sources.

    Mirrors of Tushare serve the same data, so the URL is not part of it.
    """
    if settings.source == "sim":
        return {"source": "sim", "symbols": settings.sim_symbols, "seed": settings.sim_seed}
    if settings.source == "replay":
        return {"source": "replay", "replay_dir": str(settings.replay_dir)}
    return {"source": "tushare"}


def _describe(identity: dict[str, object]) -> str:
    if identity.get("source") == "sim":
        return f"模拟市场（{identity.get('symbols')} 只股票，随机种子 {identity.get('seed')}）"
    if identity.get("source") == "replay":
        return f"回放目录 {identity.get('replay_dir')}"
    return " Tushare"


def check_source(settings: Settings) -> None:
    """Raise ConfigError when the data folder was filled from another source."""
    path = settings.state_dir / "source.json"
    if not path.exists():
        return
    recorded = json.loads(path.read_text(encoding="utf-8"))
    wanted = source_identity(settings)
    if recorded != wanted:
        raise ConfigError(
            f"数据目录 {settings.data_dir} 中的数据来自{_describe(recorded)}，"
            f"而本次配置的来源是{_describe(wanted)}："
            "混合不同来源的数据会让数据湖出错。请用 --config data_dir=另一个目录，"
            "或删除该目录后重新下载。"
        )


def record_source(settings: Settings) -> None:
    path = settings.state_dir / "source.json"
    if not path.exists():
        _write_json(path, source_identity(settings))


def server_url_file(settings: Settings) -> Path:
    return settings.state_dir / "server.url"


def endpoint(settings: Settings) -> str:
    """Return the URL that jobs send requests to: Tushare's, or the local server this run started."""
    if settings.source == "tushare":
        return settings.tushare_url
    url = os.environ.get(SERVER_URL_ENV)
    if url:
        return url
    path = server_url_file(settings)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    raise RuntimeError(
        f"本地 Tushare 服务器未启动（source={settings.source}）：找不到 {path}。"
        "请通过 snakemake 运行整个工作流，它会自动启动服务器。"
    )
