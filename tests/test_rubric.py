"""Points per question and tier: mnist_checks/grading/students/rubric.py."""

import ast
import json
import re
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import pytest

from mnist_checks.grading.course import gradebook, results
from mnist_checks.grading.students.graded import GradedTest
from mnist_checks.grading.students.rubric import (
    DEFAULT_RUBRIC,
    RubricError,
    check_weights,
    load_rubric,
    name_of,
    score_tests,
    totals,
    weight_of,
)

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


# Weights per claim (issue 34) -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
BEHAVIOUR = "test_mlp_computes_what_dense_32_relu_then_dense_10_softmax_computes"


def _test(name: str, question="q2", tier="fast", outcome="passed", tags=()) -> dict:
    """A graded test as the checker logs it, its ``tags`` as ``describe`` gives them."""
    return {"id": f"tests/test_{question}.py::{name}", "question": question, "tier": tier, "claim": f"{name}.",
            "tags": list(tags), "outcome": outcome}


def _q2_fast(behaviour_outcome="passed", others="passed") -> list[dict]:
    """Q2's fast tier as collected: 11 tests, the behaviour check tagged ``behaviour``."""
    return [_test(BEHAVIOUR, outcome=behaviour_outcome, tags=["behaviour"]),
            *(_test(f"test_other_{i}", outcome=others, tags=[]) for i in range(10))]


def _graded(tests: list[dict]) -> list[GradedTest]:
    """``tests`` as the grader collects them (``check_weights``'s)."""
    return [GradedTest.from_json(test) for test in tests]


def _shares(scored: list[dict]) -> dict[str, Fraction]:
    return {name_of(test): Fraction(test["share"]) for test in scored}


def _weighted(weights: dict, **points) -> dict:
    return {**{q: dict(tiers) for q, tiers in DEFAULT_RUBRIC.items()}, **points, "weights": weights}


def test_a_weighted_behaviour_check_is_worth_exactly_half_of_q2s_fast_points_and_the_rest_share_the_other_half():
    rubric = _weighted({BEHAVIOUR: 10})
    scored = score_tests(_q2_fast(), rubric)
    shares = _shares(scored)
    assert shares.pop(BEHAVIOUR) == Fraction(15, 2) and set(shares.values()) == {Fraction(3, 4)}
    assert totals(scored)["q2"] == (15.0, 15.0)
    assert totals(score_tests(_q2_fast(others="failed"), rubric))["q2"] == (7.5, 15.0)
    assert totals(score_tests(_q2_fast(behaviour_outcome="failed"), rubric))["q2"] == (7.5, 15.0)
    assert totals(score_tests(_q2_fast(), DEFAULT_RUBRIC))["q2"] == (15.0, 15.0)
    assert _shares(score_tests(_q2_fast(), DEFAULT_RUBRIC))[BEHAVIOUR] == Fraction(15, 11), "unweighted: equal"


def test_without_weights_shares_are_exactly_todays_equal_shares():
    tests = [*_q2_fast(), *(_test(f"test_q5_{i}", question="q5", tags=["behaviour"]) for i in range(7))]
    for rubric in (DEFAULT_RUBRIC, _weighted({})):
        scored = score_tests(tests, rubric)
        assert {t["share"] for t in scored if t["question"] == "q2"} == {"15/11"}
        assert {t["share"] for t in scored if t["question"] == "q5"} == {"15/7"}
    untagged = [{"question": "q2", "tier": "fast", "outcome": "passed"}] * 3  # results of earlier versions
    assert {t["share"] for t in score_tests(untagged, _weighted({"tag:behaviour": 5, BEHAVIOUR: 2}))} == {"5"}


def test_a_name_with_parameters_beats_its_functions_name_which_beats_a_tag():
    rubric = _weighted({"tag:behaviour": 4, "test_b": 2, "test_b[1]": 3}, q3={"fast": 12, "slow": 5})
    tests = [_test("test_a", "q3", tags=["behaviour"]), _test("test_b[0]", "q3", tags=["behaviour"]),
             _test("test_b[1]", "q3", tags=["behaviour"]), _test("test_b[2]", "q3"), _test("test_c", "q3")]
    assert [weight_of(t, rubric) for t in tests] == [4, 2, 3, 2, 1]
    assert list(_shares(score_tests(tests, rubric)).values()) == [4, 2, 3, 2, 1]  # 12 points over weights 12
    check_weights(rubric, _graded(tests))


def test_totals_stay_exact_with_weights_as_written_in_tenths():
    """Weights are read as written (0.1 is 1/10, not its binary neighbour): shares of 7 points over 10.9."""
    rubric = _weighted({"test_other_0": 0.1, "test_other_1": 2.5, "tag:behaviour": 0.3}, q2={"fast": 7, "slow": 1})
    scored = score_tests(_q2_fast(), rubric)
    assert sum(Fraction(t["share"]) for t in scored) == 7 and totals(scored)["q2"] == (7.0, 7.0)
    assert _shares(scored)["test_other_1"] == 7 * Fraction(5, 2) / Fraction(109, 10) == Fraction(175, 109)
    assert _shares(scored)["test_other_0"] == Fraction(7, 109) and _shares(scored)[BEHAVIOUR] == Fraction(21, 109)


def test_a_claim_weighing_0_is_worth_nothing_and_the_others_share_its_points():
    rubric = _weighted({BEHAVIOUR: 0})
    scored = score_tests(_q2_fast(), rubric)
    shares = _shares(scored)
    assert shares.pop(BEHAVIOUR) == 0 and set(shares.values()) == {Fraction(3, 2)}
    assert totals(scored)["q2"] == (15.0, 15.0)
    check_weights(rubric, _graded(_q2_fast()))
    assert totals(score_tests(_q2_fast()[:1], rubric))["q2"] == (0.0, 0.0), "only it ran: nothing to share"


@pytest.mark.parametrize(("weights", "problem"), [
    ([1, 2], "must be an object of test names"),
    ({"test_x": -1}, "weight of 'test_x' must be a number >= 0, not -1"),
    ({"test_x": True}, "must be a number >= 0, not True"),
    ({"test_x": "2"}, "must be a number >= 0, not '2'"),
    ({"test_x": float("nan")}, "must be a number >= 0, not nan"),
    ({"tests/test_q2_mlp.py::test_x": 2}, "after its file's '::'"),
    ({"tag:": 2}, "not 'tag:'"),
    ({"tag:fast": 2}, "fast is a tier, question or pytest marker, not a tag"),
    ({"tag:q2": 2}, "q2 is a tier, question or pytest marker"),
])
def test_a_rubric_files_bad_weights_are_refused_naming_the_weight(tmp_path, weights, problem):
    path = tmp_path / "rubric.json"
    path.write_text(json.dumps(_weighted(weights)))
    with pytest.raises(RubricError, match=re.escape(problem)) as refused:
        load_rubric(path)
    assert str(path) in str(refused.value) and "weights" in RubricError.remedy


def test_a_rubric_files_unknown_key_is_refused_and_weights_are_kept(tmp_path):
    path = tmp_path / "rubric.json"
    path.write_text(json.dumps({**DEFAULT_RUBRIC, "weight": {BEHAVIOUR: 10}}))
    with pytest.raises(RubricError, match="unknown key 'weight': a rubric holds the questions q1, .*'weights'"):
        load_rubric(path)
    path.write_text(json.dumps(_weighted({BEHAVIOUR: 10, "tag:behaviour": 0.5})))
    assert load_rubric(path)["weights"] == {BEHAVIOUR: 10, "tag:behaviour": 0.5}


def test_weights_naming_no_graded_test_or_tag_are_refused_listing_the_graded_tests():
    graded = [*_q2_fast(), _test("test_scale[7]", "q4")]
    for key in ("test_mlp_computes_what_dense_32_relu", "tag:behavior", "test_scale[8]"):
        with pytest.raises(RubricError, match=re.escape(f"weights name no graded test: {key}; graded tests are")) \
                as refused:
            check_weights(_weighted({key: 2, "test_scale": 2}), _graded(graded))
        assert f"are {BEHAVIOUR}, test_other_0, " in str(refused.value) and ", test_scale;" in str(refused.value)
        assert str(refused.value).endswith("their tags are tag:behaviour")
    check_weights(_weighted({"test_scale[7]": 2, "test_scale": 3, "tag:behaviour": 2}), _graded(graded))


def test_a_test_with_two_weighted_tags_is_refused_unless_its_name_is_weighed():
    test = _test("test_x[1]", tags=["behaviour", "training"])
    rubric = _weighted({"tag:behaviour": 2, "tag:training": 3})
    with pytest.raises(RubricError, match=re.escape("test_x[1] has 2 weighted tags, tag:behaviour and tag:training")):
        score_tests([test], rubric)
    with pytest.raises(RubricError, match="weigh it by its name"):
        check_weights(rubric, _graded([test]))
    named = _weighted({"tag:behaviour": 2, "tag:training": 3, "test_x": 5})
    assert weight_of(test, named) == 5 and weight_of(test, _weighted({"tag:behaviour": 2})) == 2


def test_a_question_tier_with_points_whose_every_test_weighs_0_is_refused():
    with pytest.raises(RubricError, match="every graded test of Q2 fast weighs 0, so its 15 points would go to none"):
        check_weights(_weighted({"tag:behaviour": 0, "tag:fast_one": 0}), _graded([
            _test(BEHAVIOUR, tags=["behaviour"]), _test("test_y", tags=["fast_one"])]))
    check_weights(_weighted({BEHAVIOUR: 0}, q2={"fast": 0, "slow": 10}), _graded([_test(BEHAVIOUR)]))


def _module_tests(path: Path, question: str) -> list[dict]:
    """The graded tests of a question's module, as ``describe`` gives them, read from its source: every
    test function one test (none parametrized), its tags its ``@pytest.mark`` decorators'."""
    tests = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            marks = [ast.unparse(d).removeprefix("pytest.mark.") for d in node.decorator_list]
            assert not [m for m in marks if not m.isidentifier()], f"{node.name}: {marks}: count its cases here"
            tests.append({"id": f"{path.relative_to(ROOT).as_posix()}::{node.name}", "question": question,
                          "tier": "fast", "tags": sorted(marks), "outcome": "passed"})
    return tests


def test_the_example_rubric_makes_each_behaviour_check_worth_exactly_half_of_its_questions_fast_points():
    """docs/rubric-example.json on the tests of tests/test_q2_mlp.py and tests/test_q5_cnn.py."""
    rubric = load_rubric(ROOT / "docs" / "rubric-example.json")
    assert {q: rubric[q] for q in DEFAULT_RUBRIC} == DEFAULT_RUBRIC
    graded = {q: _module_tests(ROOT / "tests" / module, q) for q, module in (("q2", "test_q2_mlp.py"),
                                                                            ("q5", "test_q5_cnn.py"))}
    check_weights(rubric, _graded([*graded["q2"], *graded["q5"]]))
    for question, tests in graded.items():
        scored = score_tests(tests, rubric)
        behaviour = [t for t in scored if "behaviour" in t["tags"]]
        assert len(behaviour) == 1 and Fraction(behaviour[0]["share"]) == Fraction(DEFAULT_RUBRIC[question]["fast"], 2)
        assert sum(Fraction(t["share"]) for t in scored) == DEFAULT_RUBRIC[question]["fast"]
    assert weight_of(_test(BEHAVIOUR, tags=["behaviour"]), rubric) == 10, "its name beats its tag"


class _Item:
    """What ``describe`` reads of a pytest item."""

    nodeid, name = "tests/test_q2_mlp.py::test_x[3]", "test_x[3]"

    @staticmethod
    def function():
        """A claim."""

    def iter_markers(self):
        return [pytest.mark.fast.mark, pytest.mark.q2.mark, pytest.mark.parametrize("n", [3]).mark,
                pytest.mark.xdist_group("g").mark, pytest.mark.behaviour.mark, pytest.mark.hypothesis.mark]


def test_describe_gives_a_tests_tags_its_markers_but_tiers_questions_and_pytests_own():
    from mnist_checks.grading.students.outcomes import describe

    assert describe(_Item()) == GradedTest(id="tests/test_q2_mlp.py::test_x[3]", question="q2", tier="fast",
                                           claim="A claim.", tags=("behaviour",))


def test_a_students_own_run_scores_with_the_rubric_json_of_their_repository(tmp_path):
    """``pytest_terminal_summary``'s points per question: the repository's rubric.json, else the default."""
    from mnist_checks.grading.students.plugin import pytest_terminal_summary
    from mnist_checks.grading.students.session import SESSION, Session

    class Reporter:
        def __init__(self, reports):
            self.stats, self.lines = {"passed": reports}, []

        def section(self, title, **markup):
            self.lines.append(title)

        def write_line(self, line, **markup):
            self.lines.append(line)

        def ensure_newline(self):
            pass

    class Config:
        rootpath, stash = tmp_path, {SESSION: Session()}  # a student's plain `pytest`

    def summary() -> list[str]:
        reports = [SimpleNamespace(graded=test) for test in _q2_fast(others="failed")]
        reporter = Reporter(reports)
        pytest_terminal_summary(reporter, Config())
        return reporter.lines

    assert "Q2   1.4/15  fast 1/11 tests" in summary()
    assert summary()[0] == "points per question (the grader's default rubric, for the tests that ran)"
    (tmp_path / "rubric.json").write_text(json.dumps(_weighted({BEHAVIOUR: 10})))
    assert "Q2   7.5/15  fast 1/11 tests" in summary()
    assert summary()[0] == "points per question (the course's rubric.json, for the tests that ran)"
    (tmp_path / "rubric.json").write_text("{not json")  # edited out of shape: said in a line, no internal error
    assert summary()[1].startswith("no points: ") and "not a readable JSON rubric" in summary()[1]
