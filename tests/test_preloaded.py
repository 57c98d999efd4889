"""Checkers forked from the preloaded forkserver (issue 18) start as a plain checker would: the
canonical copy first on the path, the environment they are given and no other, a session of
their own, output and error on one stream, pytest's exit status as theirs; and TensorFlow already
imported, which is the point."""

import os
import sys
import textwrap
from pathlib import Path

import pytest

from mnist_checks.grading import preloaded

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
