#!/usr/bin/env bash
# Install the Debian packages that tests/test_slurm.py needs for its one-node SLURM
# cluster (slurmctld, slurmd and the client commands, munge, ip), unless every command
# is already there. Needs root and apt-get. The test starts and stops the daemons itself.
set -euo pipefail
needed=(slurmctld slurmd sbatch squeue sinfo scancel munged mungekey ip unshare nsenter)
missing=()
for command in "${needed[@]}"; do
  command -v "$command" >/dev/null || missing+=("$command")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
echo "install-slurm.sh: commands not found: ${missing[*]}. Installing slurm-wlm munge iproute2 util-linux." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends slurm-wlm munge iproute2 util-linux >/dev/null
