"""Helpers that run the real `snakemake` command on the workflow in a temporary folder."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import tushare as ts
import yaml

from tslake.server import RunningServer, ServerConfig, start_server

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REALDATA = SHARED / "realdata"
STEPS = re.compile(r"(\d+) of (\d+) steps \(100%\) done")


@dataclass
class Run:
    """The outcome of one `snakemake` invocation."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def jobs(self) -> int:
        """Return the number of jobs Snakemake reported as done (0 when it had nothing to do)."""
        found = STEPS.findall(self.stderr)
        return int(found[-1][1]) if found else 0


class Lake:
    """A working folder with its own config file, run with the real `snakemake` command."""

    def __init__(self, folder: Path, **overrides: Any) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        with (REPO / "config" / "config.yaml").open(encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
        config.update({"data_dir": "data", "source": "sim", "rate_limit": 100000})
        config.update(overrides)
        self.config = config
        self.write_config()

    def copy(self, target: Path) -> Lake:
        """Return a copy of this lake's folder at `target`, with the same config."""
        shutil.copytree(self.folder, target)
        copied = Lake.__new__(Lake)
        copied.folder = target
        copied.config = dict(self.config)
        return copied

    def write_config(self) -> None:
        with (self.folder / "config.yaml").open("w", encoding="utf-8") as handle:
            yaml.safe_dump(self.config, handle, allow_unicode=True)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def command(self, *args: str) -> list[str]:
        """Return the `snakemake` command line for this lake, with extra arguments."""
        return [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(self.folder),
            "--configfile",
            str(self.folder / "config.yaml"),
            "--cores",
            "2",
            *args,
        ]

    def snakemake(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None, **config: Any
    ) -> Run:
        command = self.command(*args)
        if config:
            command += ["--config", *(f"{key}={value}" for key, value in config.items())]
        environment = {**os.environ, **(env or {})}
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=1200, env=environment
        )
        run = Run(result.returncode, result.stdout, result.stderr)
        if check and run.returncode != 0:
            raise AssertionError(f"snakemake failed ({run.returncode}):\n{run.output[-6000:]}")
        return run

    def calls(self) -> list[dict[str, Any]]:
        """Return every call the local server logged for this lake so far."""
        path = self.data / ".tslake" / "logs" / "server-calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.data / "metadata.db"), read_only=True) as connection:
            return connection.execute(sql).df()


@pytest.fixture
def lake_factory(tmp_path: Path):
    def make(name: str = "lake", **overrides: Any) -> Lake:
        return Lake(tmp_path / name, **overrides)

    return make


def tushare_client(
    server: RunningServer, token: str = "test-token", timeout: float = 30
) -> ts.pro.client.DataApi:
    """Return a real tushare client whose requests go to the local `server`."""
    pro = ts.pro_api(token, timeout=timeout)
    pro._DataApi__http_url = server.url
    return pro


@pytest.fixture
def make_server(market, request):
    """Start servers on the module's `market` fixture, at the module's `NOW` unless a
    `now` is given; stop them after the test."""
    started: list[RunningServer] = []

    def make(**settings: object) -> RunningServer:
        settings.setdefault("now", request.module.NOW)
        running = start_server(ServerConfig(**settings), source=market)
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
