#!/usr/bin/env bash
# Set up a virtual environment in .venv (if missing) and run the whole workflow offline
# against the built-in simulated market; extra arguments go to snakemake.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
export PATH="$PWD/.venv/bin:$PATH"
snakemake --cores 2 --config source=sim "$@"
