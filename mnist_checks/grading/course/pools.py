"""Where a batch's checks run: this machine's pool of checker threads (``LocalChecks``, as many as
fit its memory: ``local_memory``), or the workers of a Dask cluster (``remote.ClusterChecks``),
whose client is opened and closed here (``cluster_client``) with the cluster it starts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from ... import cluster as clusters
from ..limits import Limits
from ..sandbox import memory
from .checker import Checker, Job
from .checks import CheckOutcome


class LocalChecks:
    """Checks run by ``jobs`` threads of this process, each driving one checker process."""

    def __init__(self, checker: Checker, jobs: int):
        self.checker = checker
        self.pool = ThreadPoolExecutor(max_workers=max(1, jobs))

    def submit(self, job: Job, on_start=None):
        return self.pool.submit(self.checker.check, job.source, on_start)

    def outcome(self, future) -> CheckOutcome:
        return future.result()  # a grader bug surfaces here, not silently

    def health(self) -> None:
        pass  # this machine's threads do not leave

    def stop(self) -> None:
        self.checker.stop()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def local_memory(limits: Limits, jobs: int, say=None) -> tuple[memory.MemoryLimit | None, int]:
    """How each grading's memory is held here (``None``: ``grading_mb`` 0, no limit), and how
    many of ``jobs`` fit the machine at once; ``say`` is told when fewer do."""
    if not limits.grading_mb:
        return None, jobs
    held = memory.probe(limits.grading_mb * memory.MB)
    per_fork = held.per_fork(limits.memory_mb)
    fitting = memory.jobs_that_fit(jobs, per_fork)
    if fitting < jobs and say:
        say(f"grading {fitting} fork(s) at a time, not {jobs}: each grading may hold {per_fork // memory.MB:,} MB "
            f"and this machine has {memory.machine_bytes() // memory.MB:,} MB")
    return held, fitting


@contextmanager
def cluster_client(cluster, jobs: int):
    """The Dask client of ``cluster`` (``Grading.cluster``): None for this machine's pool; for
    ``"local"`` (``jobs`` worker processes here) or a scheduler's address, connected here
    (``cluster.connect``) and closed on leaving, with the cluster it started; a client as given,
    left open (its caller's)."""
    if not isinstance(cluster, str):
        yield cluster
        return
    client = clusters.connect(cluster, jobs)
    try:
        yield client
    finally:
        clusters.close(client)


def where(client, jobs: int) -> str:
    """Where a batch grades, as ``mnist-checks grade``'s first line says it."""
    return f"on the Dask cluster {client.scheduler.address}" if client is not None else f"{jobs} at a time"


def cluster_checks(client, grading, canon_digest: str, data: str | None):
    """A batch's checks on ``client``'s workers (``remote.ClusterChecks``), with the grader's data set
    where they are its own processes (``grading.cluster`` ``"local"``); a remote worker finds its own
    (its ``$MNIST_CHECKS_DATA`` or download cache)."""
    from .remote import ClusterChecks

    given = data if grading.cluster == clusters.LOCAL else None
    return ClusterChecks(client, tier=grading.tier, limits=grading.limits, canon_digest=canon_digest,
                         allow_unisolated=grading.allow_unisolated, data=given)
