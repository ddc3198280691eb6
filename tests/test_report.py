"""The run report and `snakemake --report`, from real runs of the demo configuration."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter

import duckdb
import pytest
import yaml
from conftest import REPO, Lake

from tslake.server import ServerConfig, SimMarket, start_server

NOW = "2024-06-14T20:00"
DAILY = ("daily", "adj_factor", "daily_basic")
TOKEN = "test-token-report"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Lake, object]:
    """Run the demo configuration once: config.yaml with config/demo.yaml on top."""
    with (REPO / "config" / "demo.yaml").open(encoding="utf-8") as handle:
        overrides = yaml.safe_load(handle)
    lake = Lake(tmp_path_factory.mktemp("demo"), **overrides, now=NOW)
    run = lake.snakemake()
    return lake, run


def data_dir(lake: Lake):
    return lake.folder / lake.config["data_dir"]


def reports(lake: Lake):
    return data_dir(lake) / ".tslake" / "reports"


def count_rows(lake: Lake, name: str) -> int:
    with duckdb.connect(str(data_dir(lake) / "metadata.db"), read_only=True) as connection:
        return connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0]


def server_calls(lake: Lake) -> Counter:
    path = data_dir(lake) / ".tslake" / "logs" / "server-calls.jsonl"
    calls = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        calls[yaml.safe_load(line)["api"]] += 1
    return calls


def table_rows(markdown: str, section: str) -> dict[str, int]:
    """Return the two-column table of a report section as {first cell: number}."""
    body = markdown.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for match in re.finditer(r"^\| ([^|]+) \| (\d+) \|$", body, re.MULTILINE):
        rows[match.group(1)] = int(match.group(2))
    return rows


def test_run_report_printed_and_saved(demo):
    lake, run = demo
    latest = reports(lake) / "latest.md"
    text = latest.read_text(encoding="utf-8")
    assert text.startswith("# tslake 运行报告：成功")
    assert "本次运行：" in text
    assert text.strip() in run.stdout
    saved = [path for path in reports(lake).glob("*.md") if re.match(r"\d{8}-\d{6}-", path.name)]
    assert len(saved) == 1
    assert saved[0].read_text(encoding="utf-8") == text
    assert "仍缺少的数据" in text
    assert "用时" in text


def test_run_report_counts_match_server(demo):
    lake, _ = demo
    text = (reports(lake) / "latest.md").read_text(encoding="utf-8")
    calls = table_rows(text, "接口调用")
    logged = server_calls(lake)
    assert calls.pop("合计") == sum(logged.values())
    assert calls == dict(logged)
    rows = table_rows(text, "新增数据")
    for name in DAILY:
        assert rows[name] == count_rows(lake, name), name


def test_coverage_heatmap_drawn(demo):
    lake, _ = demo
    svg = (reports(lake) / "coverage.svg").read_text(encoding="utf-8")
    assert svg.startswith("<?xml")
    for name in DAILY:
        assert f">{name}</text>" in svg, name
    assert ">2024</text>" in svg
    text = (reports(lake) / "latest.md").read_text(encoding="utf-8")
    for name in DAILY:
        row = rf"^\| {name} \| 199\d–2024 \| (\d+) \| (\d+) \| 100\.00% \|$"
        match = re.search(row, text, re.MULTILINE)
        assert match is not None, name
        assert match.group(1) == match.group(2), name


def test_rerun_saves_no_report(demo):
    # The demo lake itself: a copy in another folder has another plan key, so it replans.
    lake = demo[0]
    before = sorted(path.name for path in reports(lake).iterdir())
    calls = sum(server_calls(lake).values())
    run = lake.snakemake()
    assert run.jobs == 0
    assert sum(server_calls(lake).values()) == calls
    assert sorted(path.name for path in reports(lake).iterdir()) == before
    assert "latest.md" in run.stdout


def test_snakemake_report_html(demo, tmp_path):
    lake = demo[0].copy(tmp_path / "html")
    output = tmp_path / "report.html"
    lake.snakemake("--report", str(output))
    page = output.read_text(encoding="utf-8")
    for name in ("coverage.svg", "run.html"):
        content = (reports(lake) / name).read_bytes()
        assert base64.b64encode(content).decode() in page, name
    assert json.dumps("覆盖率")[1:-1] in page
    # A later evening has a new plan key; the report still finds the files of the last run.
    later = lake.snakemake("--report", str(output), now="2024-06-18T09:00")
    assert later.returncode == 0


def test_unpublished_day_in_report(demo, tmp_path):
    lake = demo[0].copy(tmp_path / "evening")
    lake.snakemake(now="2024-06-17T18:00")
    text = (reports(lake) / "latest.md").read_text(encoding="utf-8")
    assert "daily_basic：今天（20240617）的数据 19:00（上海时间）后才发布完整" in text
    assert "daily：今天" not in text


def test_failed_run_saves_report(lake_factory):
    faults = [
        {"kind": "no_permission", "api": "daily_basic", "times": -1},
        {"kind": "rate_day", "api": "adj_factor", "times": -1},
    ]
    market = SimMarket(symbols=24, seed=11)
    with start_server(ServerConfig(now=NOW, faults=faults), source=market) as server:
        lake = lake_factory(
            "failed",
            source="tushare",
            tushare_url=server.url,
            start_date="20240401",
            now=NOW,
            retries=1,
            retry_wait=0.05,
        )
        run = lake.snakemake(check=False, env={"TUSHARE_TOKEN": TOKEN})
    assert run.returncode != 0
    text = (reports(lake) / "latest.md").read_text(encoding="utf-8")
    assert text.startswith("# tslake 运行报告：本次运行未全部完成")
    assert text.strip() in run.stdout
    assert "失败单元 daily_basic/" in text
    assert "没有接口 daily_basic 的访问权限" in text
    assert "失败单元 adj_factor/" in text
    assert "今日的调用次数已用完" in text
    assert "daily_basic：没有接口权限" in text
    assert "adj_factor：接口调用额度已用完" in text
    assert "目录 metadata.db 已按已下载的数据重建" in text
    assert "    snakemake --snakefile" in text
    assert table_rows(text, "新增数据")["daily"] > 0
