"""The checker: mnist_checks/grading/course/checker.py; the records it reads and answers with
(mnist_checks/grading/students/graded.py, mnist_checks/grading/course/checks.py)."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mnist_checks.grading.course import checker
from mnist_checks.grading.course.checks import CheckOutcome
from mnist_checks.grading.course.results import ForkStatus
from mnist_checks.grading.students.graded import GradedTest, TestOutcome

pytestmark = pytest.mark.fast

def test_marker_expression_selects_graded_tests_of_a_tier():
    assert checker.marker_expression("fast") == "(fast) and (q1 or q2 or q3 or q4 or q5)"
    assert checker.marker_expression("all").startswith("(fast or slow) and")


def test_the_checker_collects_only_the_test_files_that_hold_graded_tests():
    """``graded_files``: each file of the graded tests once, in order; ``pytest_args`` names those
    files where given, else the whole tests folder."""
    from pathlib import Path

    ids = ["tests/test_q1_split.py::a", "tests/test_q2_mlp.py::b", "tests/test_q1_split.py::c",
           "tests/test_q2_mlp.py::d[x::y]"]
    graded = [GradedTest(test, "q1", "fast", "") for test in ids]
    files = checker.graded_files(graded)
    assert files == ("tests/test_q1_split.py", "tests/test_q2_mlp.py")
    root = Path("/canon")
    assert checker.pytest_args(root, "fast", files=files)[:2] == ["/canon/tests/test_q1_split.py",
                                                                 "/canon/tests/test_q2_mlp.py"]
    assert checker.pytest_args(root, "fast")[0] == "/canon/tests"


# The records the checker reads (the plugin's) and answers with ----------------------------------

#: Lines of a grade log as today's plugin writes them (``--grade-log``), copied from a run.
FAILED_LINE = (
    '{"id": "tests/test_q1_split.py::test_split_of_70000_rows_is_60000_train_and_10000_test", "question": "q1", '
    '"tier": "fast", "claim": "split of 70,000 rows gives 60,000 train and 10,000 test rows, X and y alike.", '
    '"tags": [], "outcome": "failed", "phase": "call", "seconds": 0.001, "error": "NotImplementedError", '
    '"raised_by": "split", "message": "not implemented yet: Q1: split is not implemented yet"}')
PASSED_LINE = (
    '{"id": "tests/test_q1_split.py::test_split_is_deterministic_for_a_fixed_random_state", "question": "q1", '
    '"tier": "fast", "claim": "split gives the same rows for the same random_state, and other rows for another.", '
    '"tags": [], "outcome": "passed", "phase": "call", "seconds": 0.01}')

text = st.text(max_size=12)
graded_tests = st.builds(GradedTest, id=text, question=st.none() | text, tier=st.none() | text, claim=text,
                         tags=st.lists(text, max_size=3).map(tuple))
test_outcomes = st.builds(TestOutcome, test=graded_tests, outcome=st.sampled_from(["passed", "failed", "skipped"]),
                          phase=st.sampled_from(["setup", "call", "teardown"]),
                          seconds=st.floats(min_value=0, max_value=1e4), error=st.none() | text,
                          raised_by=st.none() | text, message=st.none() | text,
                          extra=st.dictionaries(st.sampled_from(["newer", "worker_note"]), text, max_size=2))
check_outcomes = st.builds(
    CheckOutcome, status=st.sampled_from(ForkStatus), reason=text,
    outcomes=st.lists(test_outcomes, max_size=3).map(lambda found: {outcome.test.id: outcome for outcome in found}),
    output=text, trainings=st.dictionaries(text, st.dictionaries(text, st.integers() | text, max_size=2), max_size=2),
    memory=text, seconds=st.floats(min_value=0, max_value=1e4), isolation=text, worker=text)


@given(st.one_of(graded_tests, test_outcomes, check_outcomes))
def test_every_record_reads_back_equal_from_its_json_as_it_crosses_a_process(record):
    """``to_json`` -> JSON text -> ``from_json``: the same record (a grade log's line, the collected
    tests, a check's answer from a Dask worker), ``extra`` keys kept."""
    back = type(record).from_json(json.loads(json.dumps(record.to_json())))
    assert back == record
    assert getattr(back, "extra", None) == getattr(record, "extra", None)


def test_a_grade_log_line_of_todays_plugin_reads_as_its_test_and_outcome():
    failed, passed = TestOutcome.from_json(json.loads(FAILED_LINE)), TestOutcome.from_json(json.loads(PASSED_LINE))
    assert failed == TestOutcome(
        GradedTest("tests/test_q1_split.py::test_split_of_70000_rows_is_60000_train_and_10000_test", "q1", "fast",
                   "split of 70,000 rows gives 60,000 train and 10,000 test rows, X and y alike."),
        "failed", "call", 0.001, error="NotImplementedError", raised_by="split",
        message="not implemented yet: Q1: split is not implemented yet")
    assert (passed.passed, passed.error, passed.message, passed.seconds) == (True, None, None, 0.01)
    assert passed.test.file == "tests/test_q1_split.py"
    assert passed.test.name == "test_split_is_deterministic_for_a_fixed_random_state"
    assert [outcome.to_json() for outcome in (failed, passed)] == [json.loads(FAILED_LINE), json.loads(PASSED_LINE)]


def test_a_grade_log_line_without_id_or_outcome_is_skipped_and_the_others_read(tmp_path):
    """``read_grade_log``: a line that is no test's outcome (no ``id``, no ``outcome``, a half-written
    one) is skipped, never an outcome that scoring would fail on."""
    line = json.loads(PASSED_LINE)
    log = tmp_path / checker.GRADE_LOG
    log.write_text("\n".join([json.dumps({k: v for k, v in line.items() if k != "id"}),
                              json.dumps({**{k: v for k, v in line.items() if k != "outcome"}, "id": "t::x"}),
                              FAILED_LINE, PASSED_LINE[:40]]) + "\n")
    outcomes, trained, unended = checker.read_grade_log(log)
    assert list(outcomes) == [json.loads(FAILED_LINE)["id"]] and trained == {} and unended == []
    assert outcomes[json.loads(FAILED_LINE)["id"]] == TestOutcome.from_json(json.loads(FAILED_LINE))


def test_a_check_answer_reads_back_from_its_plain_json_with_defaults_for_what_it_left_out():
    """A cluster's answer is plain data (``to_json``: the status as its value); one left short (an
    error's) takes the defaults: no outcomes, the batch's isolation ("")."""
    found = TestOutcome.from_json(json.loads(FAILED_LINE))
    answer = CheckOutcome(ForkStatus.TIMEOUT, "stopped", {found.test.id: found}, "out", {"cnn": {"key": "k"}},
                          "no limit", 1.5, "bubblewrap", "tcp://w:1")
    data = answer.to_json()
    assert data["status"] == "timeout" and data["outcomes"][found.test.id] == json.loads(FAILED_LINE)
    assert json.loads(json.dumps(data)) == data, "JSON alone"
    assert CheckOutcome.from_json({"status": "error", "reason": "no contract"}) == CheckOutcome(ForkStatus.ERROR,
                                                                                                "no contract")
