"""GitHub Classroom's report (issue 34): each question's tests with the points grade gives them,
read by a model of Classroom's reporter (tests/classroom_reporter.py) through the starter's
workflow: the Points line Classroom records is grade's total, each question grade's points (where
their cents add up to the total's), each test within a cent of its share; the plugin's
``--classroom-report`` run by a pytest that imports no TensorFlow."""

import base64
import json
import math
import os
import random
import re
import subprocess
import sys
from fractions import Fraction

import pytest
import yaml
from classroom_reporter import (
    RUNNERS_ERROR,
    aggregate_results,
    js_string,
    notify_classroom,
    parse_runner_results,
    step_failure,
    type_errors,
)

from mnist_checks.grading.contract import FUNCTIONS
from mnist_checks.grading.students import classroom
from mnist_checks.grading.students.rubric import DEFAULT_RUBRIC, points_per_question, score_tests, shown, totals
from mnist_checks.grading.students.starter import classroom_workflow
from mnist_checks.questions import QUESTIONS

pytestmark = pytest.mark.fast

#: The fast tier's tests per question, as the suite collects them today.
COUNTS = {"q1": 8, "q2": 11, "q3": 3, "q4": 6, "q5": 10}
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
#: A reporter variable's value in the workflow: a step's output, else a stand-in (base64).
_OUTPUT = re.compile(r"^\$\{\{ steps\.(?P<step>[\w-]+)\.outputs\.(?P<name>\w+) "
                     r"\|\| '(?P<fallback>[A-Za-z0-9+/=]*)' \}\}$")


def run_of(failing: dict | None = None, counts: dict = COUNTS) -> list[dict]:
    """Graded tests of a run: ``failing[q]`` of question q's ``counts[q]`` tests failed."""
    tests = []
    for q, count in counts.items():
        for i in range(count):
            failed = i >= count - (failing or {}).get(q, 0)
            test = {"id": f"tests/test_{q}.py::test_{i:02d}", "question": q, "tier": "fast",
                    "claim": f"claim {i} of {q}", "outcome": "failed" if failed else "passed", "phase": "call"}
            if failed:
                test.update(error="AssertionError", message="the hidden layer is relu\nexpected: relu / found: sigmoid")
            tests.append(test)
    return tests


def untouched_starter() -> list[dict]:
    """Every test stopped by its question's function's NotImplementedError, in a fixture or its call."""
    first = {q: next(name for name, question in FUNCTIONS.items() if question == q) for q in QUESTIONS}
    return [{**test, "outcome": "failed", "phase": "setup" if i % 2 else "call", "error": "NotImplementedError",
             "raised_by": first[test["question"]], "message": "not implemented yet"}
            for i, test in enumerate(run_of())]


def workflow_env(outputs: dict[str, dict[str, str]], rubric: dict = DEFAULT_RUBRIC) -> tuple[str, dict]:
    """The reporter step's ``runners`` and environment as GitHub Actions makes them from the
    workflow's expressions (``${{ steps.S.outputs.N || 'fallback' }}``) and the steps' ``outputs``."""
    steps = yaml.safe_load(classroom_workflow(rubric))["jobs"]["run-autograding-tests"]["steps"]
    reporter = next(s for s in steps if s.get("uses", "").startswith(REPORTER))
    env = {}
    for name, expression in reporter["env"].items():
        match = _OUTPUT.match(expression)
        assert match, expression
        env[name] = outputs.get(match["step"], {}).get(match["name"]) or match["fallback"]
    return reporter["with"]["runners"], env


def github_outputs(text: str) -> dict[str, str]:
    """A step's outputs as GitHub Actions reads ``$GITHUB_OUTPUT``: ``name=value`` lines."""
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def seen(tests: list[dict], rubric: dict = DEFAULT_RUBRIC) -> list[dict]:
    """What the reporter reads of a run's report, through the workflow."""
    outputs = {"fast": github_outputs(classroom.github_output(classroom.scored_runners(tests, rubric)))}
    return parse_runner_results(*workflow_env(outputs, rubric))


def exact_share(test: dict) -> Fraction:
    return Fraction(test["share"]) if test["outcome"] == "passed" else Fraction(0)


def check_against_grade(tests: list[dict], rubric: dict = DEFAULT_RUBRIC) -> list[dict]:
    """The reporter's reading of the report against grade's scores of the same outcomes: the Points
    line, each question, each test. The runners, as read."""
    runners = seen(tests, rubric)
    assert type_errors(runners) == []
    scored = {t["id"]: t for t in score_tests(tests, rubric)}
    sums = totals(list(scored.values()))
    fast = float(sum(Fraction(repr(shown(rubric[q]["fast"]))) for q in QUESTIONS))  # grade's, for cents
    assert notify_classroom(runners) == f"Points {js_string(shown(sums['total'][0]))}/{js_string(fast)}"
    cents_agree = sum(Fraction(repr(shown(sums[q][0]))) for q in QUESTIONS) == Fraction(repr(shown(sums["total"][0])))
    for runner in runners:
        q, results = runner["runner"], runner["results"]
        assert abs(results["max_score"] - rubric[q]["fast"]) <= 0.005 + 1e-9
        points = math.fsum(test["score"] for test in results["tests"])
        assert abs(points - shown(sums[q][0])) <= (1e-9 if cents_agree else 0.01 + 1e-9), (q, points, sums[q])
        for test in results["tests"]:
            graded = scored[test["test_code"]]
            assert (test["status"] == "pass") == (graded["outcome"] == "passed")
            assert abs(test["score"] - float(exact_share(graded))) <= 0.01 + 1e-9, (test, graded["share"])
            assert test["score"] >= 0 if graded["outcome"] == "passed" else test["score"] == 0.0
        assert [t["test_code"] for t in results["tests"]] == sorted(t["id"] for t in tests if t["question"] == q)
    return runners


def test_the_reporter_model_reads_numbers_counts_and_failures_as_the_javascript_does():
    """The model of the reporter is not the package's code over again: its JavaScript numbers,
    skipped runners, count-based table and failure rule, on hand-made results."""
    assert [js_string(x) for x in (60.0, 13.5, 0.1 + 0.2, 57.27, 0)] == ["60", "13.5", "0.30000000000000004",
                                                                         "57.27", "0"]
    assert [classroom.js_number(x) for x in (60.0, 13.5, 0.1 + 0.2, 1e21, 1e-7, 1e-6, 2.5e-7, 1e20)] == [
        "60", "13.5", "0.30000000000000004", "1e+21", "1e-7", "0.000001", "2.5e-7", "100000000000000000000"]
    made = [{"runner": "a", "results": {"status": "fail", "max_score": 15, "tests": [
        {"name": "x", "status": "pass", "score": 0.1}, {"name": "y", "status": "fail", "score": 0.2}]}},
        {"runner": "b", "results": {"status": "error", "max_score": 0, "tests": [{"status": "pass", "score": 5}]}}]
    assert notify_classroom(made) == "Points 0.30000000000000004/15"
    assert aggregate_results(made) == [("a", 7.5, 15), ("b", 1.0, 0)]
    assert step_failure(made) == "Some tests failed." and step_failure(made[1:]) == "Some tests errored."
    with pytest.raises(ValueError, match=re.escape(RUNNERS_ERROR)):
        parse_runner_results("q1,q2", {"Q1_RESULTS": base64.b64encode(b'{"tests": []}').decode()})
    assert type_errors(made) != []


@pytest.mark.parametrize("case", ["all pass", "9 of 11 in Q2", "one in every question", "weird shares"])
def test_the_points_line_is_grades_total_each_question_grades_points_each_test_its_share(case):
    rubric = {q: {"fast": points, "slow": 5} for q, points in zip(QUESTIONS, (10, 15, 10, 10, 15))}
    counts = COUNTS
    if case == "weird shares":  # shares of 15/11, 10/3, 7/6, 0.1/7 and 100/3 / 13
        rubric = {q: {"fast": points, "slow": 5} for q, points in zip(QUESTIONS, (15, 10, 7, 0.1, 100 / 3))}
        counts = {"q1": 11, "q2": 3, "q3": 6, "q4": 7, "q5": 13}
    failing = {"all pass": {}, "9 of 11 in Q2": {"q2": 2}, "one in every question": {q: 1 for q in QUESTIONS},
               "weird shares": {"q1": 2, "q2": 1, "q3": 5, "q4": 3, "q5": 4}}[case]
    runners = check_against_grade(run_of(failing, counts), rubric)
    assert step_failure(runners) == (None if case == "all pass" else "Some tests failed.")
    if case == "9 of 11 in Q2":  # 15 * 9/11: 12.27 where a command grader per question gave 0
        assert notify_classroom(runners) == "Points 57.27/60"
        assert dict((r[0], r[1]) for r in aggregate_results(runners))["q2"] == pytest.approx(15 * 9 / 11)
    lines = points_per_question(run_of(failing, counts), rubric)
    for runner in runners:
        line = next(line for line in lines if line.startswith(runner["runner"].upper() + " "))
        figure = float(line.split()[1].split("/")[0])
        assert abs(math.fsum(t["score"] for t in runner["results"]["tests"]) - figure) <= 0.05 + 1e-9, line


def test_where_the_questions_cents_do_not_add_up_to_the_totals_the_total_is_grades_and_the_summary_grades_too():
    """A third of 10 points in each of three questions: grade shows 3.33 each and 10 in all; Classroom
    records 10, one question's tests carrying the cent, and the job summary shows grade's figures."""
    rubric = {q: {"fast": 10, "slow": 0} for q in QUESTIONS}
    tests = run_of({"q1": 2, "q2": 2, "q3": 2, "q4": 3, "q5": 3}, {q: 3 for q in QUESTIONS})
    runners = check_against_grade(tests, rubric)
    assert notify_classroom(runners) == "Points 10/50"
    points = sorted(round(math.fsum(t["score"] for t in r["results"]["tests"]), 2) for r in runners)
    assert points == [0, 0, 3.33, 3.33, 3.34]
    summary = classroom.step_summary(classroom.scored_runners(tests, rubric), tests, rubric)
    assert [line.split(" | ")[1] for line in summary.splitlines() if line.startswith("| Q")] == [
        "3.33/10", "3.33/10", "3.33/10", "0/10", "0/10"]
    assert "| **total** | **10/50** | 3/15 |" in summary


def test_the_untouched_starter_scores_0_and_each_question_names_the_function_not_written_yet():
    runners = check_against_grade(untouched_starter())
    assert notify_classroom(runners) == "Points 0/60" and step_failure(runners) == "Some tests failed."
    statuses = {test["status"] for runner in runners for test in runner["results"]["tests"]}
    assert statuses == {"fail", "error"}, "a fixture's NotImplementedError is an error, a call's a failure"
    assert {test["message"] for test in runners[1]["results"]["tests"]} == {"build_mlp is not implemented yet"}
    tests = untouched_starter()
    summary = classroom.step_summary(classroom.scored_runners(tests, DEFAULT_RUBRIC), tests, DEFAULT_RUBRIC)
    assert "| Q2 | 0/15 | 0/11 | not started: build_mlp raises NotImplementedError |" in summary
    assert "| Q5 | 0/15 | 0/10 | not started: to_images raises NotImplementedError |" in summary
    assert "Claims that lost points" not in summary and "| **total** | **0/60** | 0/38 |" in summary


def test_random_runs_and_rubrics_always_give_grades_total_to_the_cent_as_the_reporter_adds():
    """Seeded random outcomes over odd rubrics: the reporter's sum lands on grade's total exactly,
    the doubles' rounding included (where no score adds up to it, an earlier one moves the sum)."""
    generator = random.Random(34)
    for _ in range(400):
        rubric = {q: {"fast": generator.choice([10, 15, 7.5, 0.1, 3, 100 / 3, 12.345, 0]), "slow": 5}
                  for q in QUESTIONS}
        counts = {q: generator.randint(1, 13) for q in QUESTIONS}
        failing = {q: generator.randint(0, counts[q]) for q in QUESTIONS}
        runners = check_against_grade(run_of(failing, counts), rubric)
        assert step_failure(runners) == ("Some tests failed." if any(failing.values()) else None)


def test_a_question_whose_tests_did_not_report_is_an_error_worth_0_of_its_points():
    tests = [t for t in run_of() if t["question"] != "q3"]
    runners = seen(tests)
    assert type_errors(runners) == [] and runners[2]["results"]["status"] == "error"
    assert runners[2]["results"]["max_score"] == 10 and notify_classroom(runners) == "Points 50/60"
    assert step_failure(runners) == "Some tests errored."


def test_the_workflow_runs_the_fast_tier_once_and_wires_each_runner_to_its_output_and_variable():
    workflow = yaml.safe_load(classroom_workflow(DEFAULT_RUBRIC))
    assert workflow["name"] == "Autograding Tests" and list(workflow["jobs"]) == ["run-autograding-tests"]
    assert workflow["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    tests = [s for s in steps if "pytest" in s.get("run", "")]
    assert len(tests) == 1 and tests[0]["id"] == "fast" and tests[0]["continue-on-error"] is True
    assert tests[0]["run"] == "pytest -m fast -p no:cacheprovider --classroom-report"
    reporter = steps[-1]
    assert reporter["uses"] == REPORTER and reporter["if"] == "always()"
    assert reporter["with"]["runners"].split(",") == list(QUESTIONS)
    expressions = {name: _OUTPUT.match(value) for name, value in reporter["env"].items()}
    assert {name: (m["step"], m["name"]) for name, m in expressions.items()} == {
        f"{q.upper()}_RESULTS": ("fast", q) for q in QUESTIONS}
    assert not any(s.get("uses", "").startswith("classroom-resources/autograding-command") for s in steps)


def test_where_the_tests_step_wrote_nothing_every_question_reads_as_an_error_worth_0():
    runners = parse_runner_results(*workflow_env({}, {**DEFAULT_RUBRIC, "q2": {"fast": 7, "slow": 1}}))
    assert type_errors(runners) == [] and notify_classroom(runners) == "Points 0/52"
    assert {r["results"]["status"] for r in runners} == {"error"} and step_failure(runners) == "Some tests errored."


# The plugin, run by a pytest that imports no TensorFlow -------------------------------------------------

PROJECT_TESTS = '''
import pytest

@pytest.fixture
def model():
    raise RuntimeError("no model")

{tests}

@pytest.mark.q1
@pytest.mark.fast
def test_fixture_fails(model):
    """Q1's fixture claim."""
'''


def project(tmp_path, rubric: dict | None = None):
    """A repository of 7 graded Q1 tests (two failing, one in its fixture) and 3 passing Q4 tests."""
    root = tmp_path / "repo"
    (root / "tests").mkdir(parents=True)
    (root / "pytest.ini").write_text("[pytest]\nmarkers =\n    fast: f\n    q1: q\n    q4: q\n")
    (root / "conftest.py").write_text('pytest_plugins = ("mnist_checks.grading.students.plugin",)\n')
    tests = "\n".join(f"@pytest.mark.{q}\n@pytest.mark.fast\ndef test_{q}_{i}():\n    \"\"\"{q} claim {i}.\"\"\"\n"
                      f"    assert {i != 0 or q != 'q1'}, 'expected 10000 rows, found 14000'\n"
                      for q, n in (("q1", 6), ("q4", 3)) for i in range(n))
    (root / "tests" / "test_project.py").write_text(PROJECT_TESTS.format(tests=tests))
    if rubric:
        (root / "rubric.json").write_text(json.dumps(rubric))
    return root


def run_plugin(root, *args, env_files: bool = True) -> tuple[str, dict, str]:
    """pytest ``--classroom-report`` in ``root``: its output, the step's outputs, the job summary."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GITHUB_"))}
    output, summary = root.parent / "github-output", root.parent / "step-summary.md"
    for path in (output, summary):
        path.unlink(missing_ok=True)
    if env_files:
        env.update(GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary))
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--classroom-report", *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    outputs = github_outputs(output.read_text()) if output.exists() else {}
    return done.stdout, outputs, summary.read_text() if summary.exists() else ""


def test_the_plugin_writes_the_steps_outputs_and_the_job_summary_with_the_repositorys_rubric(tmp_path):
    rubric = {**DEFAULT_RUBRIC, "q1": {"fast": 14, "slow": 5}}
    root = project(tmp_path, rubric)
    out, outputs, summary = run_plugin(root)
    runners = parse_runner_results(*workflow_env({"fast": outputs}, rubric))
    assert type_errors(runners) == [] and sorted(outputs) == list(QUESTIONS)
    assert notify_classroom(runners) == "Points 20/64" and "Points 20/64 (written to " in out  # 14 * 5/7 + 10
    q1 = {t["test_code"].rpartition("::")[2]: t for t in runners[0]["results"]["tests"]}
    assert (q1["test_q1_0"]["status"], q1["test_fixture_fails"]["status"]) == ("fail", "error")
    assert "expected 10000 rows, found 14000" in q1["test_q1_0"]["message"]
    assert "RuntimeError" in q1["test_fixture_fails"]["message"] or "no model" in q1["test_fixture_fails"]["message"]
    assert [round(t["score"], 2) for t in q1.values()].count(0) == 2 and runners[0]["results"]["max_score"] == 14
    assert runners[3]["results"]["status"] == "pass" and runners[1]["results"]["status"] == "error"
    assert "| Q1 | 10/14 | 5/7 |" in summary and "| **total** | **20/64** | 8/10 |" in summary
    assert "- Q1 (fast): q1 claim 0: expected 10000 rows, found 14000" in summary
    in_parallel = run_plugin(root, "-n", "2")
    assert in_parallel[1:] == (outputs, summary), "the same report over pytest-xdist's workers"


def test_outside_github_actions_the_report_goes_to_classroom_out_else_to_the_terminal(tmp_path):
    root = project(tmp_path)
    out, outputs, summary = run_plugin(root, "--classroom-out", str(tmp_path / "report"), env_files=False)
    assert (outputs, summary) == ({}, "")
    written = github_outputs((tmp_path / "report" / classroom.OUTPUT_FILE).read_text())
    assert notify_classroom(parse_runner_results(*workflow_env({"fast": written}))) == "Points 17.14/60"
    assert "| Q1 | 7.14/10 | 5/7 |" in (tmp_path / "report" / classroom.SUMMARY_FILE).read_text()
    out, _, _ = run_plugin(root, env_files=False)
    assert "| Q1 | 7.14/10 | 5/7 |" in out and "Points 17.14/60\n" in out
    without = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"], cwd=root,
                             capture_output=True, text=True, timeout=120,
                             env={k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GITHUB_"))})
    assert "GitHub Classroom report" not in without.stdout and "points per question" in without.stdout
