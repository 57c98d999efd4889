"""Claim, expected, found in plain words: mnist_checks/grading/students/feedback.py."""

import pytest

pytestmark = pytest.mark.fast

@pytest.mark.parametrize(("kind", "lines", "feedback"), [
    ("AssertionError", ["assert (56000, 14000) == (60000, 10000)", "", "At index 0 diff: 56000 != 60000",
                        "Use -v to get more diff"],
     "expected: (60000, 10000)\nfound:    (56000, 14000)\nfirst difference at position 0: found 56000, expected 60000"),
    ("AssertionError", ["assert 3 == 2", "+  where 3 = len(array([4, 9, 2]))",
                        "Failing test case: test_split_takes_one_seventh_rounded_up_as_test_rows(",
                        "contract=<IsolatedContract exercise.py (bubblewrap)>,", "n=11,",
                        "seed=0,  # or any other generated value", ")"],
     "expected: 2\nfound:    3\nwhere 3 = len(array([4, 9, 2]))\nfor example with n=11, seed=0"),
    ("AssertionError", ["Arrays are not equal", "ACTUAL: array([0.996], dtype=float32)", "DESIRED: array([1])"],
     "expected: array([1])\nfound:    array([0.996], dtype=float32)\nArrays are not equal"),
    ("AssertionError", ["assert (np.float32(0.0) == 0.0 and np.float32(0.996) == 1.0)"],
     "this was false: (np.float32(0.0) == 0.0 and np.float32(0.996) == 1.0)"),
    ("ValueError", ["bad shape (/sandbox/fork/exercise.py line 12)",
                    "in /tmp/mnist-checks-grader-x1/canon/tests/test_q4_scale.py:33"],
     "ValueError: bad shape (exercise.py line 12)\nin tests/test_q4_scale.py:33"),
    ("TypeError", ["bad reply", "../../canon/tests/test_q2_mlp.py:36: in probabilities"],
     "TypeError: bad reply\ntests/test_q2_mlp.py:36: in probabilities"),
])
def test_feedback_says_expected_and_found_in_plain_words_without_the_graders_paths(kind, lines, feedback):
    from mnist_checks.grading.students.feedback import plain_words

    assert plain_words(kind, lines) == feedback


@pytest.mark.parametrize(("source", "line"), [("def scale(X:\n    return X / 255\n", "line 1"),
                                              ("import numpy as np\n\nnp.nothing_here()\n", "line 3")])
def test_a_contract_that_does_not_load_says_where_once(source, line, tmp_path, monkeypatch):
    """What the checker raises for a contract that does not load names the line once: a syntax
    error's own message already says where it is."""
    import sys

    from mnist_checks.grading.contract import MODULE
    from mnist_checks.grading.sandbox.isolated import IsolatedContract
    from mnist_checks.grading.sandbox.server import Server

    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    contract = tmp_path / "exercise.py"
    contract.write_text(source)
    message = str(IsolatedContract._exception(Server(str(contract)).hello()["load_error"], "importing the contract"))
    assert message.count(line) == 1 and message.count("exercise.py") == 1, message


SUITE = '''
import pytest


def build_mlp():
    raise NotImplementedError("Q2: build_mlp is not implemented yet")


def scale(X):
    return X / 256


@pytest.fixture
def mlp():
    return build_mlp()


@pytest.mark.q2
@pytest.mark.fast
def test_mlp_has_two_layers(mlp):
    assert len(mlp.layers) == 2


@pytest.mark.q2
@pytest.mark.fast
def test_mlp_is_compiled():
    assert build_mlp().optimizer


@pytest.mark.q4
@pytest.mark.fast
def test_scale_divides_by_255():
    assert scale(255) == 1
'''


def test_a_function_not_implemented_yet_is_told_once_in_one_line_and_other_failures_keep_their_report(tmp_path):
    """A student's first run of the starter: each test that a contract function's NotImplementedError
    stopped, in the test or in a fixture, counts as not implemented without a traceback, and that
    function is told once, in one line; any other failure keeps pytest's report, and the points per
    question stay."""
    import os
    import subprocess
    import sys

    (tmp_path / "test_suite.py").write_text(SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    fast\n    q2\n    q4\n")
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "mnist_checks.grading.students.plugin",
                           "-p", "no:cacheprovider", "test_suite.py"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert output.count("build_mlp is not implemented yet") == 1, output
    assert "Q2: build_mlp is not implemented yet (2 tests wait for it)" in output
    assert "raise NotImplementedError" not in output and "def build_mlp" not in output
    assert "def test_scale_divides_by_255():" in output and "assert 0.99609375 == 1" in output, "a failure's report"
    assert "1 failed, 2 not implemented" in output
    assert "Q2   0.0/15  not started: build_mlp raises NotImplementedError" in output
    assert len(output.splitlines()) < 40, output
