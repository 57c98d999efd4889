"""Claim, expected, found in plain words: mnist_checks/grading/feedback.py."""

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
])
def test_feedback_says_expected_and_found_in_plain_words_without_the_graders_paths(kind, lines, feedback):
    from mnist_checks.grading.feedback import plain_words

    assert plain_words(kind, lines) == feedback
