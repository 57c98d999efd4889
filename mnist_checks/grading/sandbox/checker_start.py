"""The first lines a forked checker runs (``preloaded.CheckerProcess``), by path, never imported.

It first forgets the grader's ``mnist_checks``, which the forkserver imported (``preloaded.PRELOAD``).
``runpy`` hands it ``SETUP``, the grader's plain data: ``OUTPUT`` (a socket for its output and
error), ``CGROUP_PROCS`` (the memory cell to enter) or ``DATA_LIMIT`` (the rlimit instead),
``ENV``, ``CWD``, ``PATH_FIRST`` and pytest's ``ARGS``.  It does what ``subprocess.Popen`` with
``start_new_session`` and the grader's ``preexec_fn`` do for a checker started from scratch.

With ``READY_SERVER`` (the catalogue's own code, isolation ``preloaded``), it first forks the
student server the checker's first call will use, while this process is still single-threaded
and TensorFlow is imported but not started: the child waits for one JSON line on its standard
input (``preloaded.ReadyServer.start``: the package, the contract, the limits, the environment)
and then runs ``mnist_checks.grading.sandbox.server.main`` as ``python -I -c`` would.
"""

import ctypes
import json
import os
import resource
import signal
import sys
import tempfile

setup = globals()["SETUP"]
# The forkserver imported TensorFlow through the grader's own mnist_checks.compat (preloaded.PRELOAD):
# forget every module of the grader's package, so that the canonical copy, first on the path, is imported.
for _name in [name for name in sys.modules if name == "mnist_checks" or name.startswith("mnist_checks.")]:
    del sys.modules[_name]
os.setsid()  # a session of its own: the grader kills it and its helpers as one group
try:  # killed when the forkserver ends, which ends with the grader
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass
if setup["CGROUP_PROCS"]:
    with open(setup["CGROUP_PROCS"], "w") as procs:
        procs.write(str(os.getpid()))
elif setup["DATA_LIMIT"]:
    resource.setrlimit(resource.RLIMIT_DATA, (setup["DATA_LIMIT"], setup["DATA_LIMIT"]))


def _ready_server() -> str:
    """Fork the student server-to-be; returns how the checker reaches it: "PID IN OUT ERR" (fds)."""
    requests, replies, output = os.pipe(), os.pipe(), os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.dup2(requests[0], 0)
            os.dup2(replies[1], 1)
            os.dup2(output[1], 2)
            os.closerange(3, 65536)  # the checker's output socket, the other pipes' ends
            line = b""
            while not line.endswith(b"\n"):
                byte = os.read(0, 1)
                if not byte:
                    os._exit(0)  # the checker never needed it
                line += byte
            start = json.loads(line)
            os.setsid()
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # dies with the checker
            os.environ.clear()
            os.environ.update(start["env"])
            os.chdir(start["cwd"])
            sys.path.insert(0, start["lib"])  # the solution-free package, as `python -I -c` puts it first
            from mnist_checks.grading.sandbox.server import main

            main(start["contract"], start["memory_mb"], start["cpu_seconds"])
            status = 0
        except BaseException:  # as an uncaught exception ends `python -I -c`: the traceback, exit 1
            import traceback

            traceback.print_exc()
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except BaseException:
                    pass
            os._exit(status)
    for end in (requests[0], replies[1], output[1]):
        os.close(end)
    return f"{pid} {requests[1]} {replies[0]} {output[0]}"


ready = _ready_server() if setup.get("READY_SERVER") else ""
os.dup2(setup["OUTPUT"].fileno(), 1)
os.dup2(setup["OUTPUT"].fileno(), 2)
setup["OUTPUT"].close()
os.environ.clear()
os.environ.update(setup["ENV"])
if ready:
    os.environ["MNIST_CHECKS_READY_SERVER"] = ready  # taken once by preloaded.take_ready_server
os.chdir(setup["CWD"])
sys.path[:0] = [setup["CWD"], *setup["PATH_FIRST"]]  # as `python -m pytest` with PYTHONPATH has it
sys.dont_write_bytecode = True
tempfile.tempdir = None  # TMPDIR comes from ENV

import pytest  # noqa: E402

sys.exit(pytest.main(setup["ARGS"]))
