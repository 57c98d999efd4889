"""The grader's side under a memory limit of its own (issue 19): no fork takes the host to OOM.

Each fork's grading (the checker process and the student server it starts) runs in a memory
cgroup of its own, made for it under the grader's own cgroup and removed after it: cgroup v2
where the memory controller is delegated to the grader's cgroup, else cgroup v1's memory
hierarchy where the grader may write it (as root on most hosts and containers).  When the
grading exceeds its limit, the kernel kills inside that cgroup alone, the fork's process first
(``server.OOM_SCORE_ADJ``), and never another fork's checker, a Dask worker or the instructor's
session.  Where no cgroup can be made, the checker gets ``RLIMIT_DATA`` instead (the fork's
process has its own ``RLIMIT_AS``).  ``jobs_that_fit`` keeps N forks at once within the machine.
"""

from __future__ import annotations

import functools
import os
import resource
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ...errors import MnistChecksError

#: Memory kept for the grader itself, the operating system and the page cache beside the forks.
RESERVED_BYTES = 2 * 1024**3
MB = 1024**2


class MemoryTooSmall(MnistChecksError, RuntimeError):
    """Not one fork's grading fits this machine's memory under the limit asked for."""

    remedy = ("pass a smaller --grading-memory-mb (and, where no memory cgroup can be made, --memory-mb) so that "
              "they fit; grade as root, or with the memory controller delegated, to get a cgroup; or grade on a "
              "machine with more memory")


@dataclass(frozen=True)
class MemoryLimit:
    """How each fork's grading is held to ``limit_bytes``: ``how`` is ``cgroup v2``, ``cgroup
    v1`` or ``rlimit``; ``parent`` the cgroup directory under which each grading gets its own."""

    how: str
    limit_bytes: int
    parent: str = ""

    @property
    def is_cgroup(self) -> bool:
        return self.how.startswith("cgroup")

    def per_fork(self, fork_memory_mb: int | None) -> int:
        """The most memory one fork's grading can hold: a cgroup's limit holds both processes;
        rlimits hold the checker and the fork's process each to their own."""
        return self.limit_bytes if self.is_cgroup else self.limit_bytes + (fork_memory_mb or 0) * MB

    def describe(self) -> str:
        where = ("a memory cgroup per fork (checker and fork's process)" if self.is_cgroup
                 else "the checker's RLIMIT_DATA")
        return f"{self.limit_bytes // MB:,} MB, {self.how}: {where}"

    def cell(self) -> "Cell":
        """A fresh cgroup for one grading (or, under rlimits, the rlimit alone)."""
        return Cell(self)


def probe(limit_bytes: int) -> MemoryLimit:
    """The strongest way this host holds a grading to ``limit_bytes``: a child cgroup of the
    grader's own (v2, then v1), checked by making one, once per process and cgroup; else the
    checker's ``RLIMIT_DATA``."""
    how, parent = _strongest_way(tuple(own_cgroups()))
    return MemoryLimit(how, limit_bytes, parent)


@functools.lru_cache(maxsize=None)
def _strongest_way(cgroups: tuple) -> tuple[str, str]:
    for how, directory in cgroups:
        if _can_make_children(how, directory):
            return how, str(directory)
    return "rlimit", ""


def own_cgroups() -> list[tuple[str, Path]]:
    """This process's memory cgroup directories, v2 first: ``[(how, directory)]``."""
    mounts = {}
    try:
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            fields = line.split()
            kind = fields[fields.index("-") + 1]
            options = fields[-1].split(",")
            if kind == "cgroup2":
                mounts.setdefault("cgroup v2", (fields[3], Path(fields[4])))
            elif kind == "cgroup" and "memory" in options:
                mounts.setdefault("cgroup v1", (fields[3], Path(fields[4])))
        memberships = Path("/proc/self/cgroup").read_text().splitlines()
    except (OSError, ValueError, IndexError):
        return []
    found = []
    for line in memberships:
        hierarchy, controllers, path = line.split(":", 2)
        how = "cgroup v2" if hierarchy == "0" and not controllers else (
            "cgroup v1" if "memory" in controllers.split(",") else None)
        if how in mounts:
            root, mountpoint = mounts[how]
            relative = os.path.relpath(path, root) if path.startswith(root) else None
            if relative is not None:
                found.append((how, (mountpoint / relative).resolve()))
    return sorted(found, key=lambda item: item[0], reverse=True)  # v2 before v1


def _can_make_children(how: str, directory: Path) -> bool:
    if how == "cgroup v2":
        controllers = _read(directory / "cgroup.subtree_control").split()
        if "memory" not in controllers:  # not delegated to us: enabling it would move other processes
            return False
    probe_dir = directory / f"mnist-checks-probe-{uuid.uuid4().hex[:8]}"
    try:
        probe_dir.mkdir()
    except OSError:
        return False
    try:
        if not (probe_dir / _LIMIT_FILE[how]).exists():
            return False
        joined = subprocess.run(["true"], preexec_fn=Cell.joiner(probe_dir), capture_output=True)
        return joined.returncode == 0  # a child can enter it, as each checker will
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        _remove(probe_dir)


_LIMIT_FILE = {"cgroup v2": "memory.max", "cgroup v1": "memory.limit_in_bytes"}
_PEAK_FILE = {"cgroup v2": "memory.peak", "cgroup v1": "memory.max_usage_in_bytes"}
_EVENTS_FILE = {"cgroup v2": "memory.events", "cgroup v1": "memory.oom_control"}


class Cell:
    """One grading's cgroup: made on ``open``, joined by the checker before it runs
    (``join``, in ``preexec_fn``), read (``peak_bytes``, ``oom_kills``) and removed on ``close``."""

    def __init__(self, limit: MemoryLimit):
        self.limit = limit
        name = f"mnist-checks-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.path = Path(limit.parent) / name if limit.is_cgroup else None

    def __enter__(self) -> "Cell":
        if self.path is not None:
            self.path.mkdir()
            how = self.limit.how
            (self.path / _LIMIT_FILE[how]).write_text(str(self.limit.limit_bytes))
            swap = self.path / ("memory.swap.max" if how == "cgroup v2" else "memory.memsw.limit_in_bytes")
            try:  # no swap beyond the limit where swap is accounted
                swap.write_text("0" if how == "cgroup v2" else str(self.limit.limit_bytes))
            except OSError:
                pass
        return self

    def join(self) -> None:
        """In the child before it runs: enter the cgroup, or take the rlimit."""
        if self.path is not None:
            Cell.joiner(self.path)()
        else:
            resource.setrlimit(resource.RLIMIT_DATA, (self.limit.limit_bytes, self.limit.limit_bytes))

    def entry(self) -> tuple[str, int]:
        """How a child joins, as data: (the ``cgroup.procs`` file to enter, 0), or ("", the RLIMIT_DATA to take)."""
        if self.path is not None:
            return str(self.path / "cgroup.procs"), 0
        return "", self.limit.limit_bytes

    @staticmethod
    def joiner(path: Path):
        """A ``preexec_fn`` that moves the child into the cgroup at ``path``."""

        def join() -> None:
            with open(path / "cgroup.procs", "w") as procs:
                procs.write(str(os.getpid()))

        return join

    def peak_bytes(self) -> int | None:
        if self.path is None:
            return None
        text = _read(self.path / _PEAK_FILE[self.limit.how])
        return int(text) if text.strip().isdigit() else None

    def oom_kills(self) -> int:
        """How many processes the kernel killed in this cgroup for its limit."""
        if self.path is None:
            return 0
        for line in _read(self.path / _EVENTS_FILE[self.limit.how]).splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
        return 0

    def end_every_process(self, seconds: float = 60) -> list[int]:
        """SIGKILL every process in this grading's cgroup, again and again, until none is left:
        the checker, the fork's process and whatever those started, in any session or PID
        namespace (no process can leave the cgroup: the fork sees no cgroup file system).  Returns
        the pids still there after ``seconds`` (none: the grading ended cleanly); without a cgroup,
        none (the caller has no list to empty)."""
        if self.path is None:
            return []
        procs = self.path / "cgroup.procs"
        if (self.path / "cgroup.kill").exists():  # cgroup v2 (Linux 5.14+): the kernel kills them all at once
            try:
                (self.path / "cgroup.kill").write_text("1")
            except OSError:
                pass
        deadline = time.monotonic() + seconds
        while True:
            left = [int(pid) for pid in _read(procs).split()]
            if not left or time.monotonic() > deadline:
                return left
            for pid in left:  # a process forked after the read is killed on the next round
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.02)

    def __exit__(self, *exc) -> None:
        if self.path is not None:
            _remove(self.path)


def machine_bytes() -> int:
    """The memory this process may use: the machine's, or its own cgroup's limit where lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for how, directory in own_cgroups():
        text = _read(directory / _LIMIT_FILE[how]).strip()
        if text.isdigit():
            total = min(total, int(text))
    return total


def jobs_that_fit(jobs: int, per_fork: int, available: int | None = None) -> int:
    """How many of ``jobs`` gradings at once fit the machine, each holding up to ``per_fork``
    bytes, beside ``RESERVED_BYTES``; ``MemoryTooSmall`` when not even one does."""
    available = (machine_bytes() if available is None else available) - RESERVED_BYTES
    fit = available // per_fork
    if fit < 1:
        raise MemoryTooSmall(f"one fork's grading may hold {per_fork // MB:,} MB (without a memory cgroup: the "
                             "checker's limit and the fork's process's own address space), and this machine has "
                             f"{max(available, 0) // MB:,} MB beside the {RESERVED_BYTES // MB:,} MB kept for the "
                             "grader and the system")
    return min(jobs, fit)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _remove(path: Path) -> None:
    """rmdir a cgroup once its last process has gone (the kernel may take a moment to reap)."""
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
