"""The grading's memory limit (``mnist_checks.grading.sandbox.memory``): real cgroups made under this
process's own, real processes allocating past them, and the kernel's log read back (issue 19)."""

import os
import signal
import subprocess
import sys

import pytest
from helpers import GLOBAL_OOM, kernel_log, lines_since

from mnist_checks.grading.sandbox import memory

pytestmark = pytest.mark.fast

MB = memory.MB
#: Allocate and touch N megabytes, then exit 0.
ALLOCATE = "import sys; block = bytearray(int(sys.argv[1]) * 1024**2); block[::4096] = b'x' * len(block[::4096])"


def allocate(cell, megabytes: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", ALLOCATE, str(megabytes)], preexec_fn=cell.join,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def cgroup():
    """A cgroup way of holding a grading, where this host gives one (CI's does: it runs as root)."""
    held = memory.probe(256 * MB)
    if not held.is_cgroup:
        if os.environ.get("MNIST_CHECKS_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"no memory cgroup can be made here ({memory.own_cgroups()}), and CI requires one")
        pytest.skip("no memory cgroup can be made here: the grader falls back to rlimits")
    return held


def test_a_grading_past_its_limit_is_killed_inside_its_own_cgroup_never_by_the_global_oom_killer(cgroup):
    before = kernel_log()
    with cgroup.cell() as cell:
        done = allocate(cell, 600)
        assert done.returncode == -signal.SIGKILL
        assert cell.oom_kills() == 1
        assert cell.peak_bytes() <= 256 * MB
        name = cell.path.name
    after = kernel_log()
    if before is not None:
        new = lines_since(before, after)
        assert any("constraint=CONSTRAINT_MEMCG" in line and name in line for line in new), new[-5:]
        assert any("Memory cgroup out of memory: Killed process" in line for line in new)
        assert not any(GLOBAL_OOM in line for line in new)
    assert not cell.path.exists(), "the cgroup is removed after the grading"


def test_a_grading_within_its_limit_runs_and_reports_its_peak(cgroup):
    with cgroup.cell() as cell:
        done = allocate(cell, 100)
        assert done.returncode == 0, done.stderr
        assert 100 * MB <= cell.peak_bytes() <= 256 * MB and cell.oom_kills() == 0


def test_children_of_a_grading_share_its_limit(cgroup):
    """The checker's student server is its child: the two are held together."""
    spawn = ("import subprocess, sys; "
             f"sys.exit(0 if subprocess.run([sys.executable, '-c', {ALLOCATE!r}, '600']).returncode == -9 else 1)")
    with cgroup.cell() as cell:
        done = subprocess.run([sys.executable, "-c", spawn], preexec_fn=cell.join, timeout=120)
        assert done.returncode == 0, "the child was killed, its parent was not"
        assert cell.oom_kills() == 1


def test_without_a_cgroup_the_checker_gets_an_rlimit_on_its_data():
    held = memory.MemoryLimit("rlimit", 256 * MB)
    with held.cell() as cell:
        done = allocate(cell, 600)
    assert done.returncode == 1 and "MemoryError" in done.stderr
    assert held.per_fork(8192) == 256 * MB + 8192 * MB, "the fork's process has its own rlimit beside it"


@pytest.mark.parametrize("jobs, available_gb, fit", [(2, 24, 2), (4, 24, 2), (2, 12, 1), (1, 10, 1)])
def test_jobs_are_lowered_to_what_fits_the_machine(jobs, available_gb, fit):
    assert memory.jobs_that_fit(jobs, 8 * 1024 * MB, available=available_gb * 1024 * MB) == fit


def test_a_machine_too_small_for_one_grading_is_refused_with_the_remedy():
    with pytest.raises(memory.MemoryTooSmall) as refused:
        memory.jobs_that_fit(1, 8 * 1024 * MB, available=4 * 1024 * MB)
    assert "8,192 MB" in str(refused.value) and "--grading-memory-mb" in refused.value.remedy


#: A grading's worst leftovers: daemons in sessions of their own, and one that keeps forking
#: short-lived children (a bounded churn, not a fork bomb); says "ready" once all are running.
DAEMONS = """
import os, sys, time
for i in range(40):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(1000)
        os._exit(0)
    os.wait()
if os.fork() == 0:
    os.setsid()
    while True:
        if os.fork() == 0:
            time.sleep(0.05)
            os._exit(0)
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
        time.sleep(0.01)
print("ready", flush=True)
time.sleep(1000)
"""


def test_every_process_a_grading_started_is_ended_before_its_row_is_written(cgroup):
    """``Cell.end_every_process``: the checker is gone, its daemons (new sessions, double-forked)
    and a process that keeps forking are all still in the grading's cgroup; none is left after,
    and the cgroup is then removed."""
    with cgroup.cell() as cell:
        started = subprocess.Popen([sys.executable, "-c", DAEMONS], preexec_fn=cell.join, start_new_session=True,
                                   stdout=subprocess.PIPE, text=True)
        assert started.stdout.readline() == "ready\n"
        started.kill()
        started.wait()
        assert len((cell.path / "cgroup.procs").read_text().split()) >= 41, "the daemons outlive their parent"
        assert cell.end_every_process() == []
        assert (cell.path / "cgroup.procs").read_text().split() == []
        path = cell.path
    assert not path.exists()


def test_the_probes_run_once_per_process(cgroup, monkeypatch):
    """``memory.probe`` makes a trial cgroup once per process (a grading batch asks on every call);
    ``levels.probe`` starts Python in bubblewrap once per process and not at all in a checker the
    grader has told (``PROBED_ENV``); a failure is not kept."""
    from mnist_checks.grading.sandbox import levels

    made = []
    real_mkdir = memory.Path.mkdir
    monkeypatch.setattr(memory.Path, "mkdir", lambda self, *a, **k: (made.append(self), real_mkdir(self, *a, **k)))
    assert memory.probe(256 * MB) == cgroup and memory.probe(512 * MB).limit_bytes == 512 * MB
    assert not [path for path in made if "probe" in path.name]
    started = []
    real_run = levels.subprocess.run
    monkeypatch.setattr(levels.subprocess, "run", lambda *a, **k: (started.append(a), real_run(*a, **k))[1])
    try:
        first = levels.probe()
    except levels.SandboxUnavailable:
        pytest.skip("bubblewrap cannot run here")
    assert levels.probe() == first and len(started) <= 1
    monkeypatch.setenv(levels.PROBED_ENV, "bubblewrap")
    assert levels.probe() == first and len(started) <= 1
    monkeypatch.delenv(levels.PROBED_ENV)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(levels.SandboxUnavailable):
        levels.probe()
