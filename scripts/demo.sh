#!/usr/bin/env bash
# Set up .venv (if needed) and run the whole workflow offline against the built-in
# simulated market, into demo-data/. Extra arguments go to snakemake.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
export PATH="$PWD/.venv/bin:$PATH"
# Targets and options come first: --configfile takes every word after it.
snakemake --cores 2 "$@" --configfile config/demo.yaml
