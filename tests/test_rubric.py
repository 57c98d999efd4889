"""Points per question and tier: mnist_checks/grading/rubric.py."""

import json

import pytest

from mnist_checks.grading import gradebook, results
from mnist_checks.grading.rubric import DEFAULT_RUBRIC, RubricError, load_rubric, score_tests, totals

pytestmark = pytest.mark.fast

def test_default_rubric_gives_100_points_60_fast_and_40_slow():
    assert sum(t["fast"] for t in DEFAULT_RUBRIC.values()) == 60
    assert sum(t["slow"] for t in DEFAULT_RUBRIC.values()) == 40


def test_scores_give_partial_credit_within_a_question():
    tests = [{"question": "q2", "tier": "fast", "outcome": o} for o in ("passed", "failed", "passed")]
    tests.append({"question": "q4", "tier": "fast", "outcome": "passed"})
    sums = totals(score_tests(tests, DEFAULT_RUBRIC))
    assert sums["q2"] == pytest.approx((10.0, 15.0))
    assert sums["q4"] == pytest.approx((10.0, 10.0))
    assert sums["total"] == pytest.approx((20.0, 25.0))
    assert sums["fast"] == sums["total"]


@pytest.mark.parametrize(("content", "problem"), [
    ("{", "not a readable JSON"),
    ('{"q1": {"fast": 1, "slow": 1}}', "expected the questions"),
    (json.dumps({q: {"fast": 1} for q in DEFAULT_RUBRIC}), "exactly 'fast' and 'slow'"),
    (json.dumps({q: {"fast": -1, "slow": 1} for q in DEFAULT_RUBRIC}), "number of points"),
])
def test_a_bad_rubric_file_is_named_with_its_problem(tmp_path, content, problem):
    path = tmp_path / "rubric.json"
    path.write_text(content)
    with pytest.raises(RubricError, match=problem):
        load_rubric(path)


def test_an_instructors_rubric_is_used_as_given(tmp_path):
    rubric = {q: {"fast": 1, "slow": 2} for q in DEFAULT_RUBRIC}
    path = tmp_path / "rubric.json"
    path.write_text(json.dumps(rubric))
    assert load_rubric(path) == rubric


def test_scores_are_shown_to_two_decimals_and_totals_are_exact_sums_of_shares_of_thirds(tmp_path, starter_run):
    """With shares in thirds, results.json and the gradebook show scores rounded to 2 decimals, and a fork
    that passes everything has exactly the rubric's points (10, not 9.999999999999998)."""
    rubric = {q: {"fast": 2, "slow": 0} for q in DEFAULT_RUBRIC}
    everything = starter_run({q: "passed" for q in DEFAULT_RUBRIC})
    full = results.ForkResult(fork="full", path="/forks/full", status="graded", tests=score_tests(everything, rubric))
    assert full.totals["total"] == (10.0, 10.0) and full.totals["fast"] == (10.0, 10.0)
    data = results.results_json(full)
    assert (data["score"], data["max_score"]) == (10.0, 10.0)
    assert data["extra_data"]["by_question"]["q1"] == [2.0, 2.0]
    assert {(t["score"], t["max_score"]) for t in data["tests"]} == {(0.67, 0.67)}
    raised = {q: "passed" for q in DEFAULT_RUBRIC}
    raised["q1"] = "AssertionError"
    some = starter_run(raised)
    some[0]["outcome"] = some[1]["outcome"] = "passed"  # q1: 2 of 3
    part = results.ForkResult(fork="part", path="/forks/part", status="graded", tests=score_tests(some, rubric))
    data = results.results_json(part)
    assert (data["score"], data["extra_data"]["by_question"]["q1"]) == (9.33, [1.33, 2.0])
    assert data["output"].startswith("part: 9.33 / 10.0 (graded)")
    gradebook.write_gradebook([full, part], tmp_path / "gradebook.csv")
    import csv

    with open(tmp_path / "gradebook.csv") as handle:
        rows = {row["fork"]: row for row in csv.DictReader(handle)}
    assert [rows["full"][k] for k in ("total", "max", "q1", "fast")] == ["10.0", "10.0", "2.0", "10.0"]
    assert [rows["part"][k] for k in ("total", "max", "q1", "q2", "fast")] == ["9.33", "10.0", "1.33", "2.0", "9.33"]
