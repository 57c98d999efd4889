"""GitHub Classroom's report of real runs (issue 34): the starter's workflow's test step (``pytest
-m fast ... --classroom-report``, read from its classroom.yml) run in the course's forks
(tests/course.py: the reference, the untouched starter, a fork with Q4 alone done and a Q2
mistake of the catalogue), each laid out as a student's repository, its report read as the
reporter reads it (tests/classroom_reporter.py): the points of `mnist-checks grade`'s results.json
of the same fork, test by test. Each run imports TensorFlow (the e2e tier)."""

import json
import math
import os
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import pytest
import yaml
from classroom_reporter import js_string, notify_classroom, parse_runner_results, step_failure, type_errors

from mnist_checks.grading.students.starter import CLASSROOM_WORKFLOW
from mnist_checks.questions import QUESTIONS, label

# The course's worker (pytest -n 2 --dist loadgroup): the session's course is graded once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("course")]

FORKS = ("reference", "starter", "partly-started", "q2-sigmoid-hidden")


def workflow_run(checkout) -> tuple[list[str], dict]:
    """The workflow's test step's command (its ``pytest`` this Python's) and the reporter's
    ``runners`` and variables, each naming the step's output it takes."""
    steps = yaml.safe_load((checkout / CLASSROOM_WORKFLOW).read_text())["jobs"]["run-autograding-tests"]["steps"]
    step = next(s for s in steps if "pytest" in s.get("run", ""))
    command = shlex.split(step["run"])
    assert command[0] == "pytest"
    reporter = steps[-1]
    wiring = {name: value.split(f"steps.{step['id']}.outputs.")[1].split()[0]
              for name, value in reporter["env"].items()}
    return [sys.executable, "-m", "pytest", *command[1:]], {"runners": reporter["with"]["runners"], "env": wiring}


def classroom_report(course, name: str, root) -> tuple[list[dict], str]:
    """The fork ``name`` of the course as a student's repository (the course's starter with the
    fork's contract), its workflow's test step run there: the reporter's reading, the job summary."""
    checkout = root / name
    shutil.copytree(course["root"] / "starter", checkout, ignore=shutil.ignore_patterns(".git", "__pycache__"))
    shutil.copy(course["root"] / name / "mnist_checks" / "exercise.py", checkout / "mnist_checks" / "exercise.py")
    command, wiring = workflow_run(checkout)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH", "GITHUB_"))}
    output, summary = root / f"{name}.output", root / f"{name}.summary.md"
    env.update(PYTHONPATH=str(checkout), GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary))
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True, timeout=600)
    assert output.is_file(), (done.stdout + done.stderr)[-3000:]
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    runners = parse_runner_results(wiring["runners"], {var: outputs[out] for var, out in wiring["env"].items()})
    return runners, summary.read_text()


@pytest.fixture(scope="module")
def reports(course, tmp_path_factory):
    """Each fork of ``FORKS``: its Classroom report (the reporter's reading, the job summary), two at a time."""
    root = tmp_path_factory.mktemp("classroom")
    with ThreadPoolExecutor(2) as runs:
        return dict(zip(FORKS, runs.map(lambda name: classroom_report(course, name, root), FORKS)))


@pytest.mark.parametrize("name", FORKS)
def test_the_classroom_report_gives_each_test_the_points_grade_gave_it_and_the_points_line_grades_total(
        course, reports, name):
    runners, summary = reports[name]
    graded = course["results"][name]
    raw = {test["id"]: test for test in graded["extra_data"]["raw_tests"]}
    by_question = graded["extra_data"]["by_question"]
    assert type_errors(runners) == []
    assert notify_classroom(runners) == f"Points {js_string(graded['score'])}/{js_string(graded['max_score'])}"
    reported = {test["test_code"]: test for runner in runners for test in runner["results"]["tests"]}
    assert sorted(reported) == sorted(raw), "the same tests"
    for test_id, test in reported.items():
        assert (test["status"] == "pass") == (raw[test_id]["outcome"] == "passed"), test_id
        assert abs(test["score"] - raw[test_id]["score"]) <= 0.01 + 1e-9, (test_id, test["score"], raw[test_id])
        assert test["status"] == "pass" or test["score"] == 0.0
    cents_agree = sum(Fraction(repr(by_question[q][0])) for q in QUESTIONS) == Fraction(repr(graded["score"]))
    for runner in runners:
        q = runner["runner"]
        points = math.fsum(test["score"] for test in runner["results"]["tests"])
        assert abs(points - by_question[q][0]) <= (1e-9 if cents_agree else 0.01 + 1e-9), (q, points, by_question[q])
        assert runner["results"]["max_score"] == by_question[q][1]
        assert f"| {label(q)} | {by_question[q][0]:g}/{by_question[q][1]:g} |" in summary, summary
    assert f"| **total** | **{graded['score']:g}/{graded['max_score']:g}** |" in summary


def test_the_reference_earns_every_point_the_starter_none_and_a_mistake_loses_only_its_questions_share(reports):
    points = {name: notify_classroom(runners) for name, (runners, _) in reports.items()}
    assert points["reference"] == "Points 60/60" and points["starter"] == "Points 0/60"
    assert step_failure(reports["reference"][0]) is None and step_failure(reports["starter"][0]) == "Some tests failed."
    runners = {r["runner"]: r["results"] for r in reports["q2-sigmoid-hidden"][0]}
    lost = [q for q in QUESTIONS if runners[q]["status"] != "pass"]
    assert lost == ["q2"] and 0 < math.fsum(t["score"] for t in runners["q2"]["tests"]) < 15
    started = {r["runner"]: r["results"]["status"] for r in reports["partly-started"][0]}
    assert started["q4"] == "pass" and points["partly-started"] == "Points 10/60"
    assert "not started: build_mlp raises NotImplementedError" in reports["partly-started"][1]
    assert json.dumps(reports["starter"][0]).count("is not implemented yet") >= 30
