"""Run the offline demo through `--profile profiles/slurm` on a one-node SLURM cluster.

The test starts munged, slurmctld and slurmd as root inside network and mount
namespaces of its own: the daemons, the workflow and its jobs see only a loopback
interface, and a bind mount puts the test's slurm.conf at /etc/slurm, where the
commands inside a SLURM job look for it. Every process is stopped at teardown.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import REPO, Lake, Run

from tslake.registry import DATASETS

NOW = "2024-06-14T20:00"  # a Friday, after every publication time
SLURM_PROFILE = REPO / "profiles" / "slurm"
INSTALL_SCRIPT = REPO / "scripts" / "install-slurm.sh"
SLURM_COMMANDS = ("slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scancel", "munged")
NAMESPACE_COMMANDS = ("mungekey", "ip", "unshare", "nsenter")
CLUSTER_JOB_RULES = {"compact", "build_catalog"}
# Group `all` fills these views. The catalog also has a suspend_d view, which stays empty.
FILLED_VIEWS = ("stock_basic", "trade_cal", "daily", "adj_factor", "daily_basic")
SUBMITTED = re.compile(r"submitted with SLURM jobid (\d+) \(log: \S*/rule_(\w+)/")
# Options for the test cluster only. It keeps no accounting database, so job states come
# from `squeue`. Its jobs start at once, so the status checks can begin early.
TEST_CLUSTER_OPTIONS = (
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "1",
    "--seconds-between-status-checks",
    "2",
)

SLURM_CONF = """\
ClusterName=tslake-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=6817
SlurmdPort=6818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/logs/slurmctld.log
SlurmdLogFile={root}/logs/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={root}/logs/jobcomp.txt
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing_commands() -> list[str]:
    return [name for name in SLURM_COMMANDS + NAMESPACE_COMMANDS if shutil.which(name) is None]


def require_slurm() -> None:
    """Install SLURM when it is missing, or skip (fail in CI) when this machine cannot run it."""
    problem = None
    if os.geteuid() != 0:
        problem = "the SLURM test cluster needs root for its daemons and namespaces"
    elif missing_commands():
        if shutil.which("apt-get") is None:
            problem = f"commands missing ({', '.join(missing_commands())}) and apt-get not found"
        else:
            subprocess.run(["bash", str(INSTALL_SCRIPT)], check=True, timeout=900)
            if missing_commands():
                pytest.fail(f"still missing after {INSTALL_SCRIPT.name}: {missing_commands()}")
    if problem is None:
        return
    if in_ci():
        pytest.fail(problem)
    pytest.skip(problem)


def node_memory_mb() -> int:
    """Return half the machine's memory in MB, the memory the test node offers to jobs."""
    with open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024 // 2
    raise AssertionError("MemTotal not found in /proc/meminfo")


def namespace_id(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


class SlurmCluster:
    """munged, slurmctld and slurmd on one node named localhost, in namespaces of their own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # munged rejects a socket folder unless all users may search every parent folder,
        # and pytest's temporary folders are private.
        self.socket_dir = Path(tempfile.mkdtemp(prefix="tslake-munge-"))
        self.socket_dir.chmod(0o755)
        self.holder: subprocess.Popen | None = None
        self.daemons: dict[str, subprocess.Popen] = {}

    def enter(self, command: list[str]) -> list[str]:
        """Return `command` prefixed to run in the cluster's network and mount namespaces."""
        assert self.holder is not None
        return ["nsenter", f"--target={self.holder.pid}", "--net", "--mount", "--", *command]

    def run(self, command: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.enter(command), capture_output=True, text=True, timeout=timeout, check=False
        )

    def start(self) -> None:
        for folder in ("etc", "state", "spool", "logs", "munge"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        (self.root / "munge").chmod(0o700)
        munge_socket = self.socket_dir / "munge.socket"
        conf = SLURM_CONF.format(
            root=self.root,
            munge_socket=munge_socket,
            cpus=os.cpu_count() or 1,
            memory_mb=node_memory_mb(),
        )
        (self.root / "etc" / "slurm.conf").write_text(conf, encoding="ascii")

        self._start_namespaces()
        key = self.root / "munge" / "munge.key"
        subprocess.run(["mungekey", "--create", f"--keyfile={key}"], check=True, timeout=30)
        self._start_daemon(
            "munged",
            "--foreground",
            f"--key-file={key}",
            f"--socket={munge_socket}",
            f"--pid-file={self.socket_dir / 'munged.pid'}",
            f"--log-file={self.root / 'logs' / 'munged.log'}",
            f"--seed-file={self.root / 'munge' / 'munged.seed'}",
        )
        self._wait_for(lambda: munge_socket.is_socket(), "the munge socket")
        self._start_daemon("slurmctld", "-D")
        self._start_daemon("slurmd", "-D", "-N", "localhost")
        self._wait_for(self._node_idle, "node localhost to become idle in sinfo")

    def _start_namespaces(self) -> None:
        """Start a placeholder process in new network and mount namespaces, then configure them."""
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation", "private", "--", "sleep", "infinity"]
        )
        own = namespace_id(os.getpid())
        self._wait_for(lambda: namespace_id(self.holder.pid) not in (None, own), "unshare")
        steps = [
            ["ip", "link", "set", "lo", "up"],
            # With AI_ADDRCONFIG, glibc's getaddrinfo resolves no IPv4 name while 127.0.0.1 is
            # the only IPv4 address. SLURM 22.05 resolves even "127.0.0.1" that way.
            ["ip", "address", "add", "127.0.0.2/8", "dev", "lo"],
            # The slurm-jobstep plugin removes SLURM_CONF from the environment of the srun it
            # starts inside a job, so that srun reads /etc/slurm/slurm.conf.
            ["mount", "--bind", str(self.root / "etc"), "/etc/slurm"],
        ]
        for step in steps:
            result = self.run(step)
            assert result.returncode == 0, f"{step} failed: {result.stderr}"

    def _start_daemon(self, *command: str) -> None:
        log = (self.root / "logs" / f"{command[0]}.out").open("w", encoding="utf-8")
        process = subprocess.Popen(self.enter(list(command)), stdout=log, stderr=log)
        log.close()
        self.daemons[command[0]] = process

    def _node_idle(self) -> bool:
        for name, process in self.daemons.items():
            if process.poll() is not None:
                raise AssertionError(
                    f"{name} exited with code {process.returncode}, see {self.root / 'logs'}"
                )
        result = self.run(["sinfo", "--noheader", "--Node", "--format=%T"], timeout=30)
        return result.returncode == 0 and result.stdout.strip() == "idle"

    def _wait_for(self, condition, description: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {description}")
            time.sleep(0.2)

    def completed_jobs(self) -> dict[str, str]:
        """Return the state of every finished job by job id, from the job completion log."""
        path = self.root / "logs" / "jobcomp.txt"
        if not path.exists():
            return {}
        states = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
            states[fields["JobId"]] = fields["JobState"]
        return states

    def stop(self) -> None:
        """Cancel the jobs, stop the daemons, then end every process left in the namespace."""
        if self.holder is not None:
            controller = self.daemons.get("slurmctld")
            if controller is not None and controller.poll() is None:
                self.run(["scancel", "--user=root"], timeout=30)
            for process in reversed(self.daemons.values()):
                stop_process(process)
            self._kill_namespace_processes()
            stop_process(self.holder)
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    def _kill_namespace_processes(self) -> None:
        """Kill what is left in the network namespace, such as job steps of cancelled jobs."""
        namespace = namespace_id(self.holder.pid)
        if namespace is None:
            return
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == self.holder.pid:
                continue
            if namespace_id(int(entry.name)) == namespace:
                try:
                    os.kill(int(entry.name), signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    require_slurm()
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def local_lake(tmp_path_factory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("local"), now=NOW)
    lake.snakemake()
    return lake


def run_on_cluster(cluster: SlurmCluster, lake: Lake, *targets: str) -> Run:
    """Run the README's SLURM command (no --cores) on the lake inside the cluster's namespaces."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        *targets,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(lake.folder),
        "--profile",
        str(SLURM_PROFILE),
        *TEST_CLUSTER_OPTIONS,
        "--configfile",
        str(lake.folder / "config.yaml"),
    ]
    result = cluster.run(command, timeout=1200)
    run = Run(result.returncode, result.stdout, result.stderr)
    assert run.returncode == 0, (
        f"snakemake on SLURM failed ({run.returncode}):\n{run.output[-6000:]}"
    )
    return run


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory) -> tuple[Lake, Run]:
    lake = Lake(tmp_path_factory.mktemp("slurm-lake"), now=NOW)
    return lake, run_on_cluster(cluster, lake)


def submitted_jobs(run: Run) -> dict[str, str]:
    """Return the rule of every job the SLURM plugin submitted, by SLURM job id."""
    return {job_id: rule for job_id, rule in SUBMITTED.findall(run.output)}


def catalog_objects(lake: Lake) -> set[str]:
    frame = lake.query("SELECT table_name FROM information_schema.tables")
    return set(frame["table_name"])


def test_slurm_lake_equals_local_lake(local_lake, slurm_run):
    lake, _ = slurm_run
    assert catalog_objects(lake) == catalog_objects(local_lake)
    views = sorted(catalog_objects(local_lake) & set(DATASETS))
    assert set(FILLED_VIEWS) <= set(views)
    for name in views:
        order = ", ".join(DATASETS[name].key)
        got = lake.query(f"SELECT * FROM {name} ORDER BY {order}")
        want = local_lake.query(f"SELECT * FROM {name} ORDER BY {order}")
        pd.testing.assert_frame_equal(got, want, obj=name)
        if name in FILLED_VIEWS:
            assert len(got) > 0, name


def test_slurm_lake_same_files(local_lake, slurm_run):
    lake, _ = slurm_run
    query = (
        "SELECT dataset, regexp_extract(path, '[^/]+$') AS file, scope "
        "FROM parts ORDER BY dataset, file"
    )
    with duckdb.connect(str(lake.data / "metadata.db"), read_only=True) as connection:
        got = connection.execute(query).df()
    with duckdb.connect(str(local_lake.data / "metadata.db"), read_only=True) as connection:
        want = connection.execute(query).df()
    pd.testing.assert_frame_equal(got, want)


def test_slurm_runs_cluster_rules_only(cluster, slurm_run):
    _, run = slurm_run
    submitted = submitted_jobs(run)
    assert sorted(submitted.values()) == sorted(CLUSTER_JOB_RULES)
    completed = cluster.completed_jobs()
    for job_id in submitted:
        assert completed.get(job_id) == "COMPLETED", (job_id, completed)


def test_slurm_api_rules_run_locally(slurm_run):
    lake, run = slurm_run
    for rule in ("refresh_reference", "plan", "fetch_unit"):
        assert f"(Rule: {rule})" in run.output, rule
    assert len(lake.calls()) > 0
    assert "本次运行" in run.stdout


def test_slurm_validate_job(cluster, slurm_run, local_lake):
    lake, _ = slurm_run
    run = run_on_cluster(cluster, lake, "validate")
    submitted = submitted_jobs(run)
    assert list(submitted.values()) == ["validate"]
    job_id = next(iter(submitted))
    assert cluster.completed_jobs().get(job_id) == "COMPLETED"
    logs = list((lake.data / ".tslake" / "logs").glob("validate-*.log"))
    assert len(logs) == 1
    summary = logs[0].read_text(encoding="utf-8")
    assert "数据湖检查" in summary
    daily_rows = local_lake.query("SELECT count(*) AS n FROM daily")["n"][0]
    assert f"{daily_rows} 行" in summary
