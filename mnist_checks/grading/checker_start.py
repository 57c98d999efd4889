"""The first lines a forked checker runs (``preloaded.CheckerProcess``), by path, never imported.

``runpy`` hands it ``SETUP``, the grader's plain data: ``OUTPUT`` (a socket for its output and
error), ``CGROUP_PROCS`` (the memory cell to enter) or ``DATA_LIMIT`` (the rlimit instead),
``ENV``, ``CWD``, ``PATH_FIRST`` and pytest's ``ARGS``.  It does what ``subprocess.Popen`` with
``start_new_session`` and the grader's ``preexec_fn`` do for a checker started from scratch.
"""

import ctypes
import os
import resource
import signal
import sys
import tempfile

setup = globals()["SETUP"]
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
os.dup2(setup["OUTPUT"].fileno(), 1)
os.dup2(setup["OUTPUT"].fileno(), 2)
setup["OUTPUT"].close()
os.environ.clear()
os.environ.update(setup["ENV"])
os.chdir(setup["CWD"])
sys.path[:0] = [setup["CWD"], *setup["PATH_FIRST"]]  # as `python -m pytest` with PYTHONPATH has it
sys.dont_write_bytecode = True
tempfile.tempdir = None  # TMPDIR comes from ENV

import pytest  # noqa: E402

sys.exit(pytest.main(setup["ARGS"]))
