"""Checks on a Dask cluster's workers: the fork's contract goes as bytes, the outcome comes back as data.

Each worker checks contracts with its own installed reference, exactly as ``mnist-checks grade``
does locally (``checker.Checker``: the canonical tests in a checker process, the fork in a
bubblewrap sandbox), and answers with plain data that the grader scores and writes as each
arrives.  Before the batch every worker says which package version and canonical tests it has
and how it isolates forks; a worker that differs from the grader is refused by name and gets no
job.  Trainings are shared cluster-wide through the scheduler (``trainings.ClusterStore``).

Dask retries only what fails around a fork: a worker that dies mid-job has that job run again on
another worker; a fork's timeout, crash or error is its result, never a retry.

A check that starts on a worker says so through the scheduler's events (``STARTED_TOPIC``):
the grader learns when each fork starts and finishes, not what its check is on in between.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import uuid
from dataclasses import replace
from pathlib import Path

from ... import __version__
from ...cluster import ClusterError
from ...installed import reference_root
from ..limits import Limits
from ..sandbox import levels, memory
from .checker import Checker, Job, collect_graded_tests, graded_files
from .checks import CheckOutcome
from .intake import copy_canonical, tree_digest
from .results import ForkStatus

_CHECKERS: dict = {}  # (tier, limits, allow_unisolated) -> this worker process's Checker
_LOCK = threading.Lock()
#: Seconds between checks that some worker allowed to check forks is still connected.
HEALTH_SECONDS = 5.0
#: The scheduler's event topic on which a worker names each job whose check starts.
STARTED_TOPIC = "mnist-checks-started"


def worker_identity(allow_unisolated: bool = False, limits: Limits = Limits(),
                    dask_worker=None) -> dict:
    """On a worker: its package version, its canonical tests' digest, its isolation, and whether
    its threads' gradings fit its memory (each held as ``memory.probe`` holds it there)."""
    reference = reference_root()
    has_tests = (reference / "tests").is_dir()
    try:
        isolation = levels.probe().level
        why = ""
    except levels.SandboxUnavailable as error:
        isolation, why = ("unisolated" if allow_unisolated else ""), str(error)
    threads = dask_worker.state.nthreads if dask_worker is not None else 1  # client.run passes the worker
    per_fork = memory.probe(limits.grading_mb * memory.MB).per_fork(limits.memory_mb) if limits.grading_mb else 0
    try:
        fitting = memory.jobs_that_fit(threads, per_fork) if per_fork else threads
    except memory.MemoryTooSmall:
        fitting = 0
    memory_why = "" if fitting == threads else (
        f"{threads} thread(s) grading at once may hold {threads * per_fork // memory.MB:,} MB, more than its "
        f"{memory.machine_bytes() // memory.MB:,} MB: start it with --nthreads {fitting}" if fitting else
        f"one grading may hold {per_fork // memory.MB:,} MB, more than its {memory.machine_bytes() // memory.MB:,} MB")
    return {"version": __version__, "canon": tree_digest(reference) if has_tests else "",
            "isolation": isolation, "why": why, "memory_why": memory_why}


def _checker(tier: str, limits: Limits, allow_unisolated: bool, canon_digest: str, data: str | None = None) -> Checker:
    """This worker process's checker for ``tier``, made once: a private copy of its canonical
    tests, which must be the grader's (``canon_digest``); ``data``, the grader's data set where given."""
    from distributed import get_worker

    with _LOCK:
        key = (tier, limits, allow_unisolated, canon_digest, data)
        if key not in _CHECKERS:
            reference = reference_root()
            private = Path(tempfile.mkdtemp(prefix="mnist-checks-worker-"))
            atexit.register(shutil.rmtree, private, True)
            canon = copy_canonical(reference, private / "canon")
            if tree_digest(canon) != canon_digest:  # its installation changed since the batch began
                raise ClusterError(f"worker {get_worker().address} has other canonical tests than the grader")
            isolation = levels.isolation_here(allow_unisolated)
            _CHECKERS[key] = Checker(canon, private, tier, limits, isolation, reference,
                                     trainings=get_worker().scheduler.address,
                                     memory=memory.probe(limits.grading_mb * memory.MB) if limits.grading_mb else None,
                                     files=graded_files(collect_graded_tests(canon, tier)), data=data)
        return _CHECKERS[key]


def check_on_worker(source: bytes, tier: str, limits: Limits, canon_digest: str,
                    allow_unisolated: bool, announce: str = "", data: str | None = None) -> dict:
    """On a worker: the canonical tests against the contract ``source`` (``Checker.check``), its
    ``CheckOutcome`` as plain data (``to_json``); where ``announce`` is given, an event naming it on
    ``STARTED_TOPIC`` as the check starts. ``data``: the grader's data set (a cluster of its own processes)."""
    from distributed import get_worker

    worker = get_worker()
    checker = _checker(tier, limits, allow_unisolated, canon_digest, data)
    started = (lambda now: worker.log_event(STARTED_TOPIC, announce)) if announce else None
    return replace(checker.check(source, started), worker=worker.address).to_json()


class ClusterChecks:
    """Checks run by the cluster's workers that match the grader (version, canonical tests,
    isolation); the others are ``refused`` with the reason. ``data``, where given, is the data set
    each worker's checker reads (``pools.cluster_checks``: workers that are the grader's own processes)."""

    def __init__(self, client, *, tier: str, limits: Limits, canon_digest: str, allow_unisolated: bool,
                 data: str | None = None):
        self.client, self.tier, self.limits, self.data = client, tier, limits, data
        self.canon_digest, self.allow_unisolated = canon_digest, allow_unisolated
        identities = client.run(worker_identity, allow_unisolated, limits)
        if not identities:
            raise ClusterError(f"the cluster at {client.scheduler.address} has no workers: start some with "
                               f"`dask worker {client.scheduler.address}`")
        self.usable, self.refused = [], {}
        for address, found in sorted(identities.items()):
            if found["version"] != __version__:
                self.refused[address] = f"mnist_checks {found['version']}, the grader has {__version__}"
            elif found["canon"] != canon_digest:
                self.refused[address] = ("other canonical tests than the grader's (install the same reference "
                                         "checkout there)")
            elif not found["isolation"]:
                self.refused[address] = f"cannot sandbox forks: {found['why']}"
            elif found.get("memory_why"):
                self.refused[address] = found["memory_why"]
            else:
                self.usable.append(address)
        if not self.usable:
            raise ClusterError("no worker of the cluster can grade for this grader: "
                               + "; ".join(f"{a}: {why}" for a, why in self.refused.items()))
        found = {identities[a]["isolation"] for a in self.usable}
        self.isolation = levels.UNISOLATED if "unisolated" in found else levels.Isolation(
            "bubblewrap", f"bubblewrap on every worker ({len(self.usable)})")
        self.futures: list = []
        self._checked_at = 0.0
        self._on_start: dict = {}  # a job's key -> its on_start, told by the workers' events

    def submit(self, job: Job, on_start=None):
        key = f"mnist-checks-grade-{job.name}-{uuid.uuid4().hex[:8]}"
        if on_start and not self._on_start:
            self.client.subscribe_topic(STARTED_TOPIC, self._started)
        if on_start:
            self._on_start[key] = on_start
        future = self.client.submit(
            check_on_worker, job.source, self.tier, self.limits, self.canon_digest, self.allow_unisolated,
            key if on_start else "", self.data, key=key, pure=False, workers=self.usable, allow_other_workers=False,
            retries=1,
        )
        self.futures.append(future)
        return future

    def _started(self, event) -> None:
        """A worker's event: the check of the job its message names has started."""
        on_start = self._on_start.get(event[1])
        if on_start:
            on_start(dict)  # what it is on stays on the worker

    def outcome(self, future) -> CheckOutcome:
        try:
            answer = future.result()
        except Exception as error:  # infrastructure, after Dask's retries: this fork's row says so
            return CheckOutcome(ForkStatus.ERROR,
                                f"the cluster could not check this fork: {type(error).__name__}: {error}")
        return CheckOutcome.from_json(answer)  # a worker's answer it cannot read: a grader bug, raised

    def health(self) -> None:
        """Raise ``ClusterError`` when no worker allowed to check forks is connected any more."""
        import time

        if time.monotonic() - self._checked_at < HEALTH_SECONDS:
            return
        self._checked_at = time.monotonic()
        if not set(self.client.scheduler_info(n_workers=-1)["workers"]) & set(self.usable):
            raise ClusterError("every worker that could grade has left the cluster; the gradebook lists the "
                               "forks not graded: run the same command again to grade them")

    def stop(self) -> None:
        self.client.cancel(self.futures)

    def close(self) -> None:
        if self._on_start:  # the client belongs to the caller: only what this batch added to it goes
            self.client.unsubscribe_topic(STARTED_TOPIC)
