#!/usr/bin/env bash
# Set up .venv (if needed) with the test tools and run every check and test.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh test
export PATH="$PWD/.venv/bin:$PATH"
ruff check src scripts tests bench
ruff format --check src scripts tests bench
snakefmt --check Snakefile workflow/rules
python -m pytest -n 2 --dist loadfile "$@"
# The reduced benchmark scenarios (whole simulated market, 2024 only); see docs/benchmarks.md.
python bench/lake_bench.py
