"""Configuration errors stop the run before any API call, with a Chinese message naming the key."""

import pytest

CASES = [
    ({"colour": "blue"}, ["未知配置项", "colour"]),
    ({"start_date": "2020-01-01"}, ["start_date", "YYYYMMDD"]),
    ({"start_date": "20201345"}, ["start_date", "YYYYMMDD"]),
    ({"group": "nosuch"}, ["group", "nosuch", "groups"]),
    ({"source": "ftp"}, ["source", "tushare, sim, replay"]),
    ({"now": "yesterday"}, ["now", "ISO"]),
    (
        {"groups": {"all": {"datasets": ["daily", "minutes"], "symbols": "all"}}},
        ["groups.all.datasets", "minutes"],
    ),
    ({"publish_times": {"daily": "25:99"}}, ["publish_times.daily", "HH:MM"]),
    (
        {"groups": {"all": {"datasets": ["daily"], "symbols": {"exchanges": ["SHSE"]}}}},
        ["groups.all.symbols", "SHSE", "SSE、SZSE、BSE"],
    ),
    (
        {"groups": {"all": {"datasets": ["daily"], "symbols": {"file": "nosuch.txt"}}}},
        ["groups.all.symbols.file", "nosuch.txt", "不存在", "每行一个 ts_code"],
    ),
    (
        {"groups": {"all": {"datasets": ["daily"], "symbols": "most"}}},
        ["groups.all.symbols", "'most'", "exchanges", "file"],
    ),
    ({"progress_interval": 0}, ["progress_interval", "大于 0"]),
]


@pytest.mark.parametrize(("overrides", "fragments"), CASES)
def test_config_error_stops_before_calls(lake_factory, overrides, fragments):
    lake = lake_factory("bad", **overrides)
    run = lake.snakemake(check=False)
    assert run.returncode != 0
    assert "配置错误" in run.output
    for fragment in fragments:
        assert fragment in run.output
    assert lake.calls() == []
    assert not (lake.data / "metadata.db").exists()


def test_config_error_from_command_line(lake_factory):
    lake = lake_factory("cli")
    run = lake.snakemake(check=False, start_date="19901301")
    assert run.returncode != 0
    assert "start_date" in run.output
    assert "19901301" in run.output
    assert lake.calls() == []


def test_missing_token_message(lake_factory, monkeypatch):
    monkeypatch.delenv("TUSHARE_TOKEN", raising=False)
    lake = lake_factory("token", source="tushare", tushare_url="http://127.0.0.1:9/dataapi")
    run = lake.snakemake(check=False)
    assert run.returncode != 0
    assert "TUSHARE_TOKEN" in run.output
