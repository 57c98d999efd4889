"""One fork's result and its outputs: mnist_checks/grading/course/results.py."""

import pytest

from mnist_checks.grading.course import results

pytestmark = pytest.mark.fast

def test_results_json_has_gradescopes_fields_and_feedback(a_result):
    data = results.results_json(a_result())
    assert {"score", "max_score", "execution_time", "output", "tests"} <= set(data)
    assert (data["score"], data["max_score"]) == (5.0, 10.0)
    failed = data["tests"][1]
    assert failed["status"] == "failed" and failed["score"] == 0 and failed["max_score"] == 5.0
    assert failed["name"] == "Q1 (fast): deterministic" and failed["number"] == "1.2"
    assert "expected 10000 test rows, found 14000" in failed["output"]
    assert "warning: edited tests/test_q1_split.py" in data["output"]


def test_junit_xml_lists_each_test_and_its_failure(a_result):
    from xml.etree import ElementTree

    suite = ElementTree.fromstring(results.junit_xml(a_result()))
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    assert [case.find("failure") is not None for case in suite.iter("testcase")] == [False, True]


def test_a_cached_result_remembers_how_the_grading_it_repeats_ended(tmp_path):
    """A contract that failed to load, graded again unchanged, is `cached` and still failed to
    load: `grade` exits 1 for it as it did the first time (issue 31)."""
    from mnist_checks.grading.course.results import ForkResult, ForkStatus, read_results, write_fork_outputs

    failed = ForkResult(fork="cy", path="/forks/cy", status=ForkStatus.FAILED_TO_LOAD, reason="SyntaxError: ...")
    write_fork_outputs(failed, tmp_path, "")
    cached = read_results(tmp_path / "results.json", "cy")
    assert (cached.status, cached.ended) == (ForkStatus.CACHED, "failed to load")
    write_fork_outputs(cached, tmp_path / "again", "")  # cached once more: still that grading's status
    assert read_results(tmp_path / "again" / "results.json", "cy").ended == "failed to load"
