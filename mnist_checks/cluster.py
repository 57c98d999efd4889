"""Where jobs run: this machine's pool, or a Dask cluster (``--cluster``), behind one small API.

``mnist-checks grade --cluster ...`` and ``mnist-checks run --seeds ... --cluster ...`` send
their jobs to a Dask cluster: ``--cluster local`` starts one on this machine (``--jobs``
worker processes), ``--cluster tcp://HOST:8786`` joins a running one (``dask scheduler`` and
``dask worker`` on lab machines, or dask-jobqueue and ``SSHCluster`` for batch systems).  Jobs
carry contents, never paths, so workers need not share a file system.  Dask is the optional
extra ``cluster``: without it everything runs in this machine's pool, as before.
"""

from __future__ import annotations

import time

from .errors import MnistChecksError

#: How ``--cluster`` names a cluster of worker processes on this machine.
LOCAL = "local"
INSTALL_HINT = 'install the optional extra: pip install -e ".[cluster]" (Dask distributed)'


class ClusterError(MnistChecksError):
    """No cluster to work with: Dask missing, a scheduler out of reach, no usable worker left."""

    remedy = ("start a scheduler and workers with the same mnist_checks installed (`dask scheduler`, `dask worker "
              "tcp://HOST:8786`) and pass its address, or --cluster local; without --cluster all runs here")


def require_dask() -> None:
    """Raise ``ClusterError`` naming the extra to install where Dask distributed is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ClusterError(f"--cluster needs Dask: {INSTALL_HINT}") from None


def connect(spec: str, jobs: int = 2):
    """A ``distributed.Client`` of the cluster ``spec`` names (``local`` or a scheduler address)."""
    require_dask()
    from distributed import Client, LocalCluster
    if spec == LOCAL:
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address="127.0.0.1:0")  # loopback only, any free port
        return Client(cluster, set_as_default=False)
    try:
        return Client(spec, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterError(f"cannot reach the Dask scheduler at {spec} ({error}); start one with `dask scheduler` "
                           f"and workers with `dask worker {spec}`, or pass --cluster local") from None


def close(client) -> None:
    """Close the client, and the cluster with it where ``connect`` started one here."""
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def process_pool(jobs: int):
    """This machine's pool for jobs that train: fresh processes (spawned, never forked from a
    process that has imported TensorFlow)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=multiprocessing.get_context("spawn"))


def as_they_finish(futures, poll: float = 0.2, idle=None):
    """Each of ``futures`` (concurrent.futures' or Dask's) as it finishes; Ctrl-C stays prompt.
    ``idle()``, if given, is called whenever none has finished (a health check may raise)."""
    pending = list(futures)
    while pending:
        finished = [future for future in pending if future.done()]
        if not finished:
            if idle:
                idle()
            time.sleep(poll)
        for future in finished:
            pending.remove(future)
            yield future
