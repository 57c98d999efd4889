"""The checker: mnist_checks/grading/checker.py."""

import pytest

from mnist_checks.grading import checker

pytestmark = pytest.mark.fast

def test_marker_expression_selects_graded_tests_of_a_tier():
    assert checker.marker_expression("fast") == "(fast) and (q1 or q2 or q3 or q4 or q5)"
    assert checker.marker_expression("all").startswith("(fast or slow) and")
