"""The checker: mnist_checks/grading/course/checker.py."""

import pytest

from mnist_checks.grading.course import checker

pytestmark = pytest.mark.fast

def test_marker_expression_selects_graded_tests_of_a_tier():
    assert checker.marker_expression("fast") == "(fast) and (q1 or q2 or q3 or q4 or q5)"
    assert checker.marker_expression("all").startswith("(fast or slow) and")


def test_the_checker_collects_only_the_test_files_that_hold_graded_tests():
    """``graded_files``: each file of the graded tests once, in order; ``pytest_args`` names those
    files where given, else the whole tests folder."""
    from pathlib import Path

    graded = [{"id": "tests/test_q1_split.py::a"}, {"id": "tests/test_q2_mlp.py::b"},
              {"id": "tests/test_q1_split.py::c"}, {"id": "tests/test_q2_mlp.py::d[x::y]"}]
    files = checker.graded_files(graded)
    assert files == ("tests/test_q1_split.py", "tests/test_q2_mlp.py")
    root = Path("/canon")
    assert checker.pytest_args(root, "fast", files=files)[:2] == ["/canon/tests/test_q1_split.py",
                                                                 "/canon/tests/test_q2_mlp.py"]
    assert checker.pytest_args(root, "fast")[0] == "/canon/tests"
