"""Static checks of the workflow: `snakemake --lint`, `snakefmt` and `ruff` report nothing."""

import subprocess
import sys
from pathlib import Path

from conftest import REPO


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_snakemake_lint_is_clean():
    result = run(sys.executable, "-m", "snakemake", "--lint", "--config", "source=sim")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr


def test_snakefmt_is_clean():
    snakefmt = Path(sys.executable).with_name("snakefmt")
    result = run(str(snakefmt), "--check", "Snakefile", "workflow/rules")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_clean():
    result = run(sys.executable, "-m", "ruff", "check", "src", "scripts", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr
    result = run(
        sys.executable, "-m", "ruff", "format", "--check", "src", "scripts", "tests", "bench"
    )
    assert result.returncode == 0, result.stdout + result.stderr
