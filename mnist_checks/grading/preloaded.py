"""Checker processes forked from one that has already imported TensorFlow (issue 18).

Every fork's checker is a process of its own: its own session (killed as a group), memory cell,
environment and canonical copy first on ``sys.path``.  Started with ``python -m pytest``, each one
first spends about 10 s of a core importing TensorFlow (measured on the 2-core machine), a third
of a fork's checking.  A ``multiprocessing`` forkserver started once per grader imports
TensorFlow, Keras and numpy and forks every checker from there; the checker then runs
``checker_start.py`` by path, which sets up what ``subprocess.Popen`` and its ``preexec_fn`` set
up for a plain checker, and calls pytest.  Where no forkserver can be started (a daemonic
process, such as some Dask workers), ``available()`` says so and the checker starts as before.

Nothing of a fork runs in the forkserver: it holds the grader's code and libraries only, and a
fork's code runs in the sandboxed student server the checker starts.
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
import signal
import socket
import subprocess
from pathlib import Path

#: What the forkserver imports once; the checker's canonical ``mnist_checks`` is not among them.
PRELOAD = ["numpy", "tensorflow", "keras"]
#: Run by path in each forked checker (``runpy.run_path``): importing it would import the grader's
#: ``mnist_checks`` before the canonical copy is first on the path.
CHECKER_START = Path(__file__).with_name("checker_start.py")

_CONTEXT = None


def available() -> bool:
    """Whether this process can fork checkers from a preloaded forkserver."""
    return ("forkserver" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon)


def _context():
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(PRELOAD)
    return _CONTEXT


def start() -> None:
    """Start this process's forkserver now, if it is not running: it then lives as long as the
    process, and its socket's directory goes to the temporary directory of this moment."""
    import multiprocessing.forkserver

    _context()
    multiprocessing.forkserver.ensure_running()


class CheckerProcess:
    """A checker forked from the forkserver, used like ``subprocess.Popen``: ``pid``,
    ``stdout`` (its output and error, read until EOF), ``wait(timeout)``, ``kill()`` and
    ``returncode`` (negative: the signal that ended it)."""

    def __init__(self, pytest_args: list[str], *, cwd: Path, env: dict, path_first: list[str],
                 cgroup_procs: str = "", data_limit: int = 0):
        ours, theirs = socket.socketpair()
        setup = {"ARGS": list(pytest_args), "CWD": str(cwd), "ENV": dict(env), "PATH_FIRST": list(path_first),
                 "CGROUP_PROCS": cgroup_procs, "DATA_LIMIT": data_limit, "OUTPUT": theirs}
        self._process = _context().Process(target=runpy.run_path, args=(str(CHECKER_START),),
                                           kwargs={"init_globals": {"SETUP": setup}, "run_name": "__main__"})
        try:
            self._process.start()
        finally:
            theirs.close()
        self.pid = self._process.pid
        self.stdout = ours.makefile("rb", buffering=0)
        ours.close()  # the file keeps the socket open

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired("checker", timeout)
        return self._process.exitcode

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
