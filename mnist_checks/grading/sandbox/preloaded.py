"""Checker processes forked from one that has already imported TensorFlow (issue 18).

Every fork's checker is a process of its own: its own session (killed as a group), memory cell,
environment and canonical copy first on ``sys.path``.  Started with ``python -m pytest``, each one
first spends about 10 s of a core importing TensorFlow (measured on the 2-core machine), a third
of a fork's checking.  A ``multiprocessing`` forkserver started once per grader imports
TensorFlow, Keras and numpy (as ``mnist_checks.compat`` does: no start-up lines) and forks every
checker from there; the checker then runs
``checker_start.py`` by path, which sets up what ``subprocess.Popen`` and its ``preexec_fn`` set
up for a plain checker, and calls pytest.  Where no forkserver can be started (a daemonic
process, such as some Dask workers), ``available()`` says so and the checker starts as before.

Nothing of a fork runs in the forkserver: it holds the grader's code and libraries only, and a
fork's code runs in the sandboxed student server the checker starts.

The catalogue's own code (``mnist-checks mutants``: our mistakes and correct variants, not
students' code) may skip the student server's import too: graded at isolation ``preloaded``, each
checker forks its first student server before it starts pytest (``checker_start``), with
TensorFlow already loaded, and the checker's first call hands it the fork's contract
(``take_ready_server``, ``ReadyServer``).  That server is a plain process, not a sandbox: never
for a student's fork (``sandbox.PRELOADED``).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import runpy
import signal
import socket
import subprocess
import time
from pathlib import Path

#: What the forkserver imports once: numpy, and TensorFlow and Keras as every command imports them
#: (``mnist_checks.compat``: the backend's C++ start-up lines on standard error held back unless
#: ``--verbose``; the forkserver's standard error is the grader's).  ``checker_start`` forgets
#: the grader's ``mnist_checks`` modules first thing, so each checker imports its canonical copy.
PRELOAD = ["numpy", "mnist_checks.compat"]
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
                 cgroup_procs: str = "", data_limit: int = 0, ready_server: bool = False):
        ours, theirs = socket.socketpair()
        setup = {"ARGS": list(pytest_args), "CWD": str(cwd), "ENV": dict(env), "PATH_FIRST": list(path_first),
                 "CGROUP_PROCS": cgroup_procs, "DATA_LIMIT": data_limit, "OUTPUT": theirs,
                 "READY_SERVER": ready_server}
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


#: How ``checker_start`` tells the checker where its ready student server is: "PID IN OUT ERR".
READY_SERVER_ENV = "MNIST_CHECKS_READY_SERVER"


def take_ready_server() -> "ReadyServer | None":
    """In a checker: the student server ``checker_start`` forked for it, once; None after the
    first call, or where none was forked (a later server starts from scratch)."""
    found = os.environ.pop(READY_SERVER_ENV, "")
    try:
        pid, stdin, stdout, stderr = (int(part) for part in found.split())
    except ValueError:
        return None
    return ReadyServer(pid, stdin, stdout, stderr)


class ReadyServer:
    """A student server forked with TensorFlow loaded, waiting for its contract; used like the
    ``subprocess.Popen`` of a server started from scratch (``pid``, ``stdin``, ``stdout``,
    ``stderr``, ``poll``, ``wait``, ``kill``, ``returncode``)."""

    def __init__(self, pid: int, stdin: int, stdout: int, stderr: int):
        self.pid, self.returncode = pid, None
        self.stdin = os.fdopen(stdin, "wb")
        self.stdout = os.fdopen(stdout, "rb")
        self.stderr = os.fdopen(stderr, "rb")

    def start(self, *, lib: Path, contract: Path, memory_mb: int, cpu_seconds: int, env: dict, cwd: Path) -> None:
        """Run ``server.main(contract, memory_mb, cpu_seconds)`` from the package at ``lib``, with
        ``env`` and in ``cwd``: what ``sandbox.python_command`` starts, without the import."""
        line = json.dumps({"lib": str(lib), "contract": str(contract), "memory_mb": int(memory_mb),
                           "cpu_seconds": int(cpu_seconds), "env": env, "cwd": str(cwd)})
        self.stdin.write(line.encode() + b"\n")
        self.stdin.flush()

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = self.pid, 0
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("student server", timeout)
            time.sleep(0.01)
        return self.returncode

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
