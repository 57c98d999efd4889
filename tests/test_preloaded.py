"""Checkers forked from the preloaded forkserver (issue 18) start as a plain checker would: the
canonical copy first on the path, the environment they are given and no other, a session of
their own, output and error on one stream, pytest's exit status as theirs; and TensorFlow already
imported, which is the point."""

import os
import sys
import textwrap
from pathlib import Path

import pytest

from mnist_checks.grading.sandbox import preloaded

pytestmark = pytest.mark.e2e

PROBE = '''
import os
import sys

import mnist_checks


def test_the_canonical_copy_comes_first():
    assert mnist_checks.WHERE == "canon", mnist_checks.__file__


def test_the_environment_is_the_one_given():
    assert os.environ["GIVEN"] == "yes" and "GRADER_ONLY" not in os.environ
    assert os.getcwd() == os.environ["EXPECTED_CWD"]


def test_a_session_of_its_own():
    assert os.getsid(0) == os.getpid() == os.getpgid(0)


def test_tensorflow_was_imported_before_it_started():
    assert "tensorflow" in sys.modules


def test_a_failure_is_pytests_exit_status():
    print("printed by the checker")
    assert os.environ.get("FAIL") != "yes"
'''


def run_probe(tmp_path: Path, **extra_env) -> tuple[int, str]:
    canon = tmp_path / "canon"
    (canon / "mnist_checks").mkdir(parents=True)
    (canon / "mnist_checks" / "__init__.py").write_text('WHERE = "canon"\n')
    (canon / "tests").mkdir()
    (canon / "tests" / "test_probe.py").write_text(textwrap.dedent(PROBE))
    work = tmp_path / "work"
    work.mkdir()
    env = {"PATH": os.environ["PATH"], "GIVEN": "yes", "EXPECTED_CWD": str(work),
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **extra_env}
    os.environ["GRADER_ONLY"] = "1"
    try:
        process = preloaded.CheckerProcess([str(canon / "tests"), "-p", "no:cacheprovider", "-s", "--rootdir",
                                            str(canon)], cwd=work, env=env, path_first=[str(canon)])
    finally:
        del os.environ["GRADER_ONLY"]
    output = process.stdout.read().decode()
    return process.wait(timeout=120), output


def test_a_forked_checker_starts_as_a_plain_one_would(tmp_path):
    status, output = run_probe(tmp_path)
    assert status == 0 and "5 passed" in output and "printed by the checker" in output, output


def test_a_forked_checkers_failures_are_its_exit_status(tmp_path):
    status, output = run_probe(tmp_path, FAIL="yes")
    assert status == 1 and "1 failed, 4 passed" in output, output
    assert sys.modules["mnist_checks"].__file__ != str(tmp_path / "canon" / "mnist_checks" / "__init__.py")


READY = '''
import os
import sys
from pathlib import Path

from mnist_checks.grading.sandbox import preloaded, wire


def test_the_checker_brings_one_ready_student_server_forked_with_tensorflow_loaded():
    ready = preloaded.take_ready_server()
    assert ready is not None and preloaded.take_ready_server() is None, "taken once"
    assert os.getppid() != ready.pid and ready.poll() is None
    cmdline = Path(f"/proc/{ready.pid}/cmdline").read_bytes()
    assert b"forkserver" in cmdline, "forked from the preloaded checker, not started as python -I"
    scratch = Path(os.environ["SCRATCH"])
    ready.start(lib=Path(os.environ["LIB"]), contract=Path(os.environ["CONTRACT"]), memory_mb=0, cpu_seconds=60,
                env={"PATH": "/usr/bin:/bin", "HOME": str(scratch), "TMPDIR": str(scratch)}, cwd=scratch)
    hello, _ = wire.read(ready.stdout)
    assert hello["ready"] and hello["load_error"] is None and hello["pid"] == ready.pid
    ready.stdin.write(wire.encode({"call": "scale", "args": [3.0], "kwargs": {}}, {}))
    ready.stdin.flush()
    reply, arrays = wire.read(ready.stdout)
    assert wire.unpack(reply["value"], arrays) == 1.0, reply  # read as numpy reads it: a 0-d array
    assert os.getsid(ready.pid) == ready.pid != os.getsid(0), "a session of its own, killed as a group"
    ready.stdin.close()
    assert ready.wait(timeout=60) == 0
'''


def test_a_checker_for_the_catalogue_brings_a_ready_student_server(tmp_path):
    """``ready_server=True`` (isolation ``preloaded``): the forked checker has one student server
    forked before pytest started, with TensorFlow loaded, which takes the contract it is handed and
    answers over the wire as a server started from scratch would, in a session of its own."""
    from mnist_checks import exercise

    root = Path(exercise.__file__).resolve().parent.parent
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_ready.py").write_text(READY)
    (tmp_path / "contract.py").write_text("def scale(X):\n    return X / 3\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {"PATH": os.environ["PATH"], "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "LIB": str(root),
           "CONTRACT": str(tmp_path / "contract.py"), "SCRATCH": str(scratch)}
    process = preloaded.CheckerProcess([str(tmp_path / "tests"), "-p", "no:cacheprovider", "--rootdir",
                                        str(tmp_path)], cwd=tmp_path, env=env, path_first=[str(root)],
                                       ready_server=True)
    output = process.stdout.read().decode()
    assert process.wait(timeout=120) == 0 and "1 passed" in output, output


START_ONE = '''
import os
import sys
from pathlib import Path

from mnist_checks.grading.sandbox import preloaded

checker = preloaded.CheckerProcess(["--version"], cwd=Path.cwd(), path_first=[],
                                   env={"PATH": os.environ["PATH"], "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
sys.stdout.write(checker.stdout.read().decode())
sys.exit(checker.wait(timeout=120))
'''
#: What TensorFlow's C++ side writes to standard error as it is imported (absl, oneDNN, CPU features).
START_UP_LINES = ("absl::InitializeLog", "oneDNN custom operations", "cpu_feature_guard")


def test_the_forkserver_imports_tensorflow_without_its_start_up_lines(tmp_path):
    """`mnist-checks grade` shows none of TensorFlow's start-up lines unless --verbose
    (``MNIST_CHECKS_VERBOSE``): its forkserver imports TensorFlow as every command does, and what
    its C++ side writes to standard error meanwhile is held back."""
    import subprocess

    env = {key: value for key, value in os.environ.items() if key != "MNIST_CHECKS_VERBOSE"}
    done = subprocess.run([sys.executable, "-c", START_ONE], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and "pytest" in done.stdout, done.stdout + done.stderr
    assert [line for line in done.stderr.splitlines() if any(word in line for word in START_UP_LINES)] == []
