#!/usr/bin/env bash
# Set up a virtual environment in .venv (if missing) and run every check and test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
export PATH="$PWD/.venv/bin:$PATH"
ruff check src scripts tests
ruff format --check src scripts tests
snakefmt --check Snakefile workflow/rules
python -m pytest -n 2 --dist loadfile "$@"
